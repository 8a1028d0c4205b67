// Probe-target safety (SSRF). Every address a host name resolves to is classified:
//   blocked  never probed: link-local (169.254/16, fe80::/10), cloud metadata (169.254.169.254,
//            fd00:ec2::254, 100.100.100.200, 192.0.0.192), unspecified, multicast, reserved
//   private  loopback, RFC 1918, CGNAT, benchmark, ULA: only when the service allows private targets
//   public   anything else
// The database refuses such targets at configuration time too (vigil_private.target_problem);
// this runtime check catches host names that resolve there. Redirects are followed by the probe
// hop by hop, each hop checked again.
import { lookup } from 'node:dns/promises';

export type AddressClass = 'blocked' | 'private' | 'public';

const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

function v4ToInt(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return null;
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

function inV4(ip: number, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const b = v4ToInt(base)!;
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return ((ip & mask) >>> 0) === ((b & mask) >>> 0);
}

function v6ToBigInt(ip: string): bigint | null {
  let s = ip.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // embedded IPv4 tail
  const v4tail = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (v4tail) {
    const v = v4ToInt(v4tail[1]);
    if (v === null) return null;
    s = s.slice(0, -v4tail[1].length) + ((v >>> 16) & 0xffff).toString(16) + ':' + (v & 0xffff).toString(16);
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? head.length !== 8 : missing < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let out = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    out = (out << 16n) + BigInt(parseInt(g, 16));
  }
  return out;
}

function inV6(ip: bigint, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const b = v6ToBigInt(base)!;
  const n = BigInt(bits ?? '128');
  const mask = n === 0n ? 0n : ((1n << 128n) - 1n) ^ ((1n << (128n - n)) - 1n);
  return (ip & mask) === (b & mask);
}

function classifyV4(v: number): AddressClass {
  if (['169.254.0.0/16', '0.0.0.0/8', '224.0.0.0/4', '240.0.0.0/4', '100.100.100.200/32', '192.0.0.192/32'].some((c) => inV4(v, c))) return 'blocked';
  if (['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '198.18.0.0/15', '192.0.0.0/24'].some((c) => inV4(v, c))) {
    return 'private';
  }
  return 'public';
}

/** Classifies an IP literal; anything unparsable counts as blocked. */
export function classifyAddress(ip: string): AddressClass {
  const a = ip.replace(/^\[|\]$/g, '');
  const v4 = v4ToInt(a);
  if (v4 !== null) return classifyV4(v4);
  const v6 = v6ToBigInt(a);
  if (v6 === null) return 'blocked';
  // IPv4-mapped, NAT64 and IPv4-compatible forms carry an IPv4 address
  if (inV6(v6, '::ffff:0:0/96') || inV6(v6, '64:ff9b::/96')) return classifyV4(Number(v6 & 0xffffffffn));
  if (inV6(v6, 'fe80::/10') || inV6(v6, 'fd00:ec2::254/128') || inV6(v6, 'ff00::/8') || v6 === 0n) return 'blocked';
  if (v6 === 1n || inV6(v6, 'fc00::/7')) return 'private';
  // deprecated IPv4-compatible (::a.b.c.d) and other reserved low addresses
  if (inV6(v6, '::/96')) return 'blocked';
  return 'public';
}

export async function systemResolve(host: string): Promise<string[]> {
  const all = await lookup(host, { all: true, verbatim: true });
  return all.map((a) => a.address);
}

export class TargetRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefused';
  }
}

/**
 * Throws TargetRefused unless every address `url`'s host resolves to may be probed.
 * Returns the addresses checked.
 */
export async function checkTarget(url: URL, allowPrivate: boolean, resolve: (h: string) => Promise<string[]> = systemResolve): Promise<string[]> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TargetRefused(`scheme ${url.protocol} is not probed`);
  if (url.username || url.password) throw new TargetRefused('credentials in the URL are not allowed');
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (!host) throw new TargetRefused('no host');
  if (METADATA_HOSTS.has(host) || host.endsWith('.metadata.google.internal')) throw new TargetRefused(`host ${host} is a cloud metadata endpoint`);
  const literal = v4ToInt(host) !== null || host.includes(':');
  let addrs: string[];
  if (literal) addrs = [host];
  else {
    try {
      addrs = await resolve(host);
    } catch (e) {
      throw new Error(`DNS lookup of ${host} failed: ${(e as Error).message}`);
    }
    if (!addrs.length) throw new Error(`DNS lookup of ${host} returned no address`);
  }
  for (const a of addrs) {
    const cls = classifyAddress(a);
    if (cls === 'blocked') throw new TargetRefused(`${host} resolves to ${a}: link-local / cloud-metadata addresses are never probed`);
    if (cls === 'private' && !allowPrivate) {
      throw new TargetRefused(`${host} resolves to ${a}: private or loopback address; set allow_private_targets on the service to probe it`);
    }
  }
  return addrs;
}
