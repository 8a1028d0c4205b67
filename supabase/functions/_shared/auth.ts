// Caller authentication for edge functions: project API keys (compared in constant time) and user
// JWTs (verified against the project's JWKS, as hosted Supabase publishes them).
import { createHash } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { env } from './env.ts';
import { error } from './http.ts';

const sha256 = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s, 'utf8').digest());

/** Compares two digests without an early exit. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Constant-time string comparison: compares SHA-256 digests, so neither content nor length leaks.
 * Synchronous node:crypto hashing (a few microseconds) rather than crypto.subtle: on the ingest
 * hot path the async digests were a fifth of the function's CPU.
 */
export function safeEqual(a: string, b: string): boolean {
  return sameDigest(sha256(a), sha256(b));
}

function keysFrom(jsonVar: string, legacyVar: string): string[] {
  const out: string[] = [];
  try {
    const parsed = JSON.parse(env(jsonVar) ?? '{}') as Record<string, string>;
    out.push(...Object.values(parsed).filter((v) => typeof v === 'string' && v.length > 0));
  } catch { /* a malformed variable grants nothing */ }
  const legacy = env(legacyVar);
  if (legacy) out.push(legacy);
  return out;
}

export const secretKeys = () => keysFrom('SUPABASE_SECRET_KEYS', 'SUPABASE_SERVICE_ROLE_KEY');
export const publishableKeys = () => keysFrom('SUPABASE_PUBLISHABLE_KEYS', 'SUPABASE_ANON_KEY');

/** The key a caller presented: the `apikey` header, else a Bearer token. */
export function presentedKey(req: Request): string | null {
  const apikey = req.headers.get('apikey');
  if (apikey) return apikey.trim();
  const bearer = req.headers.get('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return bearer ?? null;
}

// Digests of the project's keys, computed once (again only if the environment changes).
const digestCache = new Map<string, { source: string; digests: Uint8Array[] }>();
function keyDigests(kind: 'secret' | 'publishable'): Uint8Array[] {
  const keys = kind === 'secret' ? secretKeys() : publishableKeys();
  const source = JSON.stringify(keys);
  const hit = digestCache.get(kind);
  if (hit?.source === source) return hit.digests;
  const digests = keys.map(sha256);
  digestCache.set(kind, { source, digests });
  return digests;
}

function matchesAny(key: string, kind: 'secret' | 'publishable'): boolean {
  const presented = sha256(key);
  let found = false;
  // Compare against every candidate so timing does not reveal which one matched.
  for (const d of keyDigests(kind)) found = sameDigest(presented, d) || found;
  return found;
}

/** True when `key` is one of the project's secret keys (constant time). */
export const isSecretKey = (key: string) => matchesAny(key, 'secret');

/** null when the request carries a secret key; else the 401/403 response to return. */
export async function requireSecretKey(req: Request): Promise<Response | null> {
  const key = presentedKey(req);
  if (!key) return error(401, 'missing_api_key', 'send the secret key in the apikey header');
  if (!matchesAny(key, 'secret')) return error(403, 'invalid_api_key', 'the API key is not a valid secret key');
  return null;
}

/** Like requireSecretKey, but a publishable key is enough. Returns which kind matched. */
export async function requireProjectKey(req: Request): Promise<{ kind: 'secret' | 'publishable' } | Response> {
  const key = presentedKey(req);
  if (!key) return error(401, 'missing_api_key', 'send a project API key in the apikey header');
  if (matchesAny(key, 'secret')) return { kind: 'secret' };
  if (matchesAny(key, 'publishable')) return { kind: 'publishable' };
  return error(403, 'invalid_api_key', 'the API key is not valid for this project');
}

let jwks: ReturnType<typeof createLocalJWKSet> | null = null;

export interface UserClaims extends JWTPayload {
  role?: string;
  email?: string;
  app_metadata?: { role?: string; [k: string]: unknown };
}

/** Verifies the caller's user JWT (Authorization: Bearer). Returns claims or a 401 response. */
export async function requireUser(req: Request): Promise<UserClaims | Response> {
  const token = req.headers.get('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!token) return error(401, 'missing_jwt', 'send the user access token as Authorization: Bearer <jwt>');
  try {
    jwks ??= createLocalJWKSet(JSON.parse(env('SUPABASE_JWKS') ?? '{"keys":[]}'));
    const { payload } = await jwtVerify(token, jwks);
    return payload as UserClaims;
  } catch {
    return error(401, 'invalid_jwt', 'the access token is invalid or expired');
  }
}

/** Admin = app_metadata.role 'admin' (set server-side; user_metadata is user-editable and never trusted). */
export const isAdmin = (c: UserClaims) => c.app_metadata?.role === 'admin';

export async function requireAdmin(req: Request): Promise<UserClaims | Response> {
  const claims = await requireUser(req);
  if (claims instanceof Response) return claims;
  if (!isAdmin(claims)) return error(403, 'not_admin', 'this endpoint is for admins');
  return claims;
}
