// Local edge runtime (hosted: Supabase edge-runtime behind the API gateway). One Deno process
// serves every `supabase/functions/<name>/index.ts` at /functions/v1/<name>, with the environment
// variables hosted Supabase sets (passed in by the stack). Functions are written exactly as for
// hosted (`Deno.serve(handler)` or `export default { fetch }`): this router captures the handler
// instead of letting each open a port. `[functions.<name>] verify_jwt` in supabase/config.toml is
// enforced like the hosted gateway does: a valid JWT in Authorization unless verify_jwt = false.
import { createLocalJWKSet, jwtVerify } from 'jose';

type Handler = (req: Request, info?: unknown) => Response | Promise<Response>;

const functionsDir = Deno.env.get('VIGIL_FUNCTIONS_DIR')!;
const configToml = Deno.env.get('VIGIL_CONFIG_TOML')!;
const port = Number(Deno.env.get('VIGIL_API_PORT') ?? 54321);
const jwks = createLocalJWKSet(JSON.parse(Deno.env.get('SUPABASE_JWKS') ?? '{"keys":[]}'));

function verifyJwtSetting(): Map<string, boolean> {
  const out = new Map<string, boolean>();
  let current: string | null = null;
  for (const line of Deno.readTextFileSync(configToml).split('\n')) {
    const section = line.match(/^\s*\[functions\.([A-Za-z0-9_-]+)\]\s*$/);
    if (section) { current = section[1]; out.set(current, true); continue; }
    if (/^\s*\[/.test(line)) { current = null; continue; }
    const v = line.match(/^\s*verify_jwt\s*=\s*(true|false)/);
    if (current && v) out.set(current, v[1] === 'true');
  }
  return out;
}

const realServe = Deno.serve.bind(Deno);
let captured: Handler | null = null;
// deno-lint-ignore no-explicit-any
(Deno as any).serve = (a: unknown, b?: unknown) => {
  const handler = (typeof a === 'function' ? a : typeof b === 'function' ? b : (a as { handler?: Handler }).handler) as Handler;
  captured = handler;
  return { finished: new Promise(() => {}), shutdown: async () => {}, ref() {}, unref() {}, addr: { hostname: '127.0.0.1', port, transport: 'tcp' } };
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const handlers = new Map<string, Handler>();
const verifyJwt = verifyJwtSetting();
for await (const entry of Deno.readDir(functionsDir)) {
  if (!entry.isDirectory || entry.name.startsWith('_') || entry.name.startsWith('.')) continue;
  const file = `${functionsDir}/${entry.name}/index.ts`;
  try { Deno.statSync(file); } catch { continue; }
  captured = null;
  try {
    const mod = await import(`file://${file}`);
    const handler = captured ?? (mod.default?.fetch ? (mod.default.fetch.bind(mod.default) as Handler) : null);
    if (!handler) throw new Error('no Deno.serve handler or default fetch export');
    handlers.set(entry.name, handler);
  } catch (e) {
    // One broken function must not take the others down (hosted deploys them separately).
    console.error(`[functions] ${entry.name} failed to load:`, e);
    const message = String(e);
    handlers.set(entry.name, () => json(500, { code: 'BOOT_ERROR', message: `function failed to start: ${message}` }));
  }
}

realServe({ hostname: '127.0.0.1', port, onListen: () => console.log(`[functions] serving ${[...handlers.keys()].join(', ')} on :${port}`) }, async (req, info) => {
  const url = new URL(req.url);
  if (url.pathname === '/_health') return json(200, { ok: true, functions: [...handlers.keys()] });
  const m = url.pathname.match(/^\/functions\/v1\/([^/]+)(\/.*)?$/);
  const name = m?.[1];
  const handler = name ? handlers.get(name) : undefined;
  if (!name || !handler) return json(404, { code: 'NOT_FOUND', message: 'Requested function was not found' });
  if (verifyJwt.get(name) !== false && req.method !== 'OPTIONS') {
    const token = req.headers.get('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
    try {
      if (!token) throw new Error('missing');
      await jwtVerify(token, jwks);
    } catch {
      return json(401, { code: 'UNAUTHORIZED_INVALID_JWT_FORMAT', message: 'Invalid JWT' });
    }
  }
  // Hosted functions see their own name as the first path segment.
  const inner = new URL(`${url.protocol}//${url.host}/${name}${m?.[2] ?? ''}${url.search}`);
  const forwarded = new Request(inner, req);
  try {
    return await handler(forwarded, info);
  } catch (e) {
    console.error(`[functions] ${name} threw:`, e);
    return json(500, { code: 'WORKER_ERROR', message: 'Function failed' });
  }
});
