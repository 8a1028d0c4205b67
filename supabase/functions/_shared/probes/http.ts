// The `http` probe kind. config (all optional):
//   method            GET (default) | HEAD | POST | PUT | OPTIONS
//   headers           {name: value}           plain headers (never credentials: the database refuses them)
//   secret_headers    {name: vault_secret}    header values read from Vault at run time
//   body              string sent with POST/PUT
//   expected_status   [200, 204]              default: any 2xx
//   degraded_status   [429]                   these statuses mean degraded (default [429])
//   body_keyword      "ok"                    must appear in the body, else down
//   json_assertions   [{"path": "status", "equals": "ok", "on_fail": "degraded" | "down"}]
//   tls_expiry_days   14                      https: certificate expiring within N days = degraded (0 = off)
//   max_redirects     5                       each hop is checked against the SSRF rules again
// service.degraded_latency_ms: slower than this = degraded.
import tls from 'node:tls';
import { readTextPrefix } from '../http.ts';
import { checkTarget, systemResolve, TargetRefused } from './ssrf.ts';
import type { ClaimedService, ProbeContext, ProbeOutcome, ProbeStatus } from './types.ts';

const MAX_BODY_BYTES = 256 * 1024;

function numList(v: unknown): number[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null;
}


function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) && /^\d+$/.test(part) ? cur[Number(part)] : (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Days until the server certificate of host:port expires (null when it cannot be read). */
export function certificateDaysLeft(host: string, port: number, signal: AbortSignal): Promise<{ days: number; valid_to: string } | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: { days: number; valid_to: string } | null) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      try { socket.destroy(); } catch { /* closed */ }
      resolve(v);
    };
    const onAbort = () => finish(null);
    const isIp = /^[\d.]+$|:/.test(host);
    const socket = tls.connect({ host, port, servername: isIp ? undefined : host, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      const to = cert?.valid_to ? Date.parse(cert.valid_to) : NaN;
      finish(Number.isNaN(to) ? null : { days: Math.floor((to - Date.now()) / 86_400_000), valid_to: new Date(to).toISOString() });
    });
    socket.on('error', () => finish(null));
    signal.addEventListener('abort', onAbort);
  });
}

export async function httpProbe(svc: ClaimedService, ctx: ProbeContext): Promise<ProbeOutcome> {
  const cfg = svc.config ?? {};
  const method = typeof cfg.method === 'string' ? cfg.method : 'GET';
  const headers: Record<string, string> = { 'user-agent': 'Vigil-Probe/1', accept: '*/*' };
  if (cfg.headers && typeof cfg.headers === 'object') {
    for (const [k, v] of Object.entries(cfg.headers as Record<string, unknown>)) if (typeof v === 'string') headers[k] = v;
  }
  if (cfg.secret_headers && typeof cfg.secret_headers === 'object') {
    for (const [k, name] of Object.entries(cfg.secret_headers as Record<string, unknown>)) {
      const v = typeof name === 'string' ? ctx.secrets[name] : undefined;
      // the secret's NAME may be reported, never its value
      if (v === undefined) return { status: 'down', latency_ms: null, details: { reason: `Vault secret '${String(name)}' (header ${k}) not found`, config_error: true } };
      headers[k] = v;
    }
  }
  let url: URL;
  try {
    url = new URL(svc.target ?? '');
  } catch {
    return { status: 'down', latency_ms: null, details: { reason: 'target is not a valid URL', config_error: true } };
  }
  const shownUrl = `${url.origin}${url.pathname}`;
  const resolve = ctx.resolve ?? systemResolve;
  const maxRedirects = typeof cfg.max_redirects === 'number' ? Math.max(0, Math.min(10, cfg.max_redirects)) : 5;
  const started = performance.now();
  const tlsDays = typeof cfg.tls_expiry_days === 'number' ? cfg.tls_expiry_days : 14;

  try {
    let res: Response | null = null;
    let current = url;
    for (let hop = 0; ; hop++) {
      await checkTarget(current, svc.allow_private_targets, resolve);
      res = await fetch(current, {
        method,
        headers,
        body: (method === 'POST' || method === 'PUT') && typeof cfg.body === 'string' ? cfg.body : undefined,
        redirect: 'manual',
        signal: ctx.signal,
      });
      const loc = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && loc && hop < maxRedirects) {
        await res.body?.cancel().catch(() => {});
        const next = new URL(loc, current);
        // never forward credentials to another origin
        if (next.origin !== current.origin) for (const k of Object.keys(headers)) if (k.toLowerCase() !== 'user-agent' && k.toLowerCase() !== 'accept') delete headers[k];
        current = next;
        continue;
      }
      break;
    }
    const needBody = typeof cfg.body_keyword === 'string' || Array.isArray(cfg.json_assertions);
    const body = needBody && method !== 'HEAD' ? await readTextPrefix(res, MAX_BODY_BYTES) : (await res.body?.cancel().catch(() => {}), '');
    const latency = Math.round(performance.now() - started);
    const details: Record<string, unknown> & { reason: string } = { reason: 'ok', url: shownUrl, http_status: res.status };
    let status = 'healthy' as ProbeStatus;
    const worse = (s: ProbeStatus, reason: string) => {
      const rank = { healthy: 0, degraded: 1, down: 2 } as const;
      if (rank[s] > rank[status]) {
        status = s;
        details.reason = reason;
      }
    };

    const expected = numList(cfg.expected_status);
    const degradedStatus = numList(cfg.degraded_status) ?? [429];
    if (degradedStatus.includes(res.status)) worse('degraded', `HTTP ${res.status}`);
    else if (expected ? !expected.includes(res.status) : res.status < 200 || res.status > 299) {
      worse('down', `HTTP ${res.status} (expected ${expected ? expected.join(', ') : '2xx'})`);
    }
    if (status !== 'down' && typeof cfg.body_keyword === 'string' && !body.includes(cfg.body_keyword)) {
      worse('down', `body keyword ${JSON.stringify(cfg.body_keyword)} not found`);
    }
    if (status !== 'down' && Array.isArray(cfg.json_assertions)) {
      let parsed: unknown;
      let ok = true;
      try {
        parsed = JSON.parse(body);
      } catch {
        ok = false;
        worse('down', 'body is not JSON (json_assertions)');
      }
      if (ok) {
        for (const a of cfg.json_assertions as { path?: unknown; equals?: unknown; on_fail?: unknown }[]) {
          if (typeof a?.path !== 'string') continue;
          const got = getPath(parsed, a.path);
          if (!sameJson(got, a.equals)) {
            worse(a.on_fail === 'degraded' ? 'degraded' : 'down', `JSON ${a.path} is ${JSON.stringify(got) ?? 'missing'}, expected ${JSON.stringify(a.equals)}`);
          }
        }
      }
    }
    if (svc.degraded_latency_ms && latency > svc.degraded_latency_ms) worse('degraded', `latency ${latency} ms above ${svc.degraded_latency_ms} ms`);
    if (current.protocol === 'https:' && tlsDays > 0 && status !== 'down') {
      const cert = await certificateDaysLeft(current.hostname.replace(/^\[|\]$/g, ''), Number(current.port || 443), ctx.signal);
      if (cert) {
        details.tls_days_left = cert.days;
        details.tls_valid_to = cert.valid_to;
        if (cert.days < tlsDays) worse('degraded', `TLS certificate expires in ${cert.days} days (${cert.valid_to})`);
      }
    }
    return { status, latency_ms: latency, details };
  } catch (e) {
    const latency = Math.round(performance.now() - started);
    if (e instanceof TargetRefused) return { status: 'down', latency_ms: null, details: { reason: `target refused: ${e.message}`, url: shownUrl, refused: true } };
    if (ctx.signal.aborted) return { status: 'down', latency_ms: latency, details: { reason: `timeout after ${svc.timeout_ms} ms`, url: shownUrl, timeout: true } };
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const cause = err.cause?.code ?? err.cause?.message;
    return { status: 'down', latency_ms: latency, details: { reason: `request failed: ${err.message}${cause && !err.message.includes(cause) ? ` (${cause})` : ''}`.slice(0, 500), url: shownUrl } };
  }
}
