// Per-stack credentials, generated on first `up` and kept in the state folder (never committed):
// an ES256 signing key (published as JWKS, like hosted projects' asymmetric JWT keys), the new-style
// publishable and secret API keys, and the ids of the demo admin and ordinary users.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { apiUrl, paths } from './config.ts';

export interface StackKeys {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  publishableKey: string;
  secretKey: string;
  adminUserId: string;
  userId: string;
  otherUserId: string;
}

const token = (prefix: string) => `${prefix}${randomBytes(24).toString('base64url')}`;

export async function loadOrCreateKeys(): Promise<StackKeys> {
  if (existsSync(paths.keys)) return JSON.parse(readFileSync(paths.keys, 'utf8')) as StackKeys;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const keys: StackKeys = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig', key_ops: ['verify'] },
    publishableKey: token('sb_publishable_'),
    secretKey: token('sb_secret_'),
    adminUserId: randomUUID(),
    userId: randomUUID(),
    otherUserId: randomUUID(),
  };
  writeFileSync(paths.keys, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

export const jwks = (k: StackKeys) => ({ keys: [k.publicJwk] });

/** Signs a JWT the way GoTrue does for a signed-in user (or a legacy API-role key). */
export async function signJwt(k: StackKeys, claims: Record<string, unknown>, ttlSeconds = 24 * 3600): Promise<string> {
  const key = await importJWK(k.privateJwk, 'ES256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: k.kid, typ: 'JWT' })
    .setIssuer(`${apiUrl()}/auth/v1`)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key);
}

export function userClaims(id: string, email: string, admin: boolean): Record<string, unknown> {
  return {
    sub: id,
    aud: 'authenticated',
    role: 'authenticated',
    email,
    app_metadata: admin ? { provider: 'email', providers: ['email'], role: 'admin' } : { provider: 'email', providers: ['email'] },
    user_metadata: {},
    is_anonymous: false,
  };
}

export const demoUsers = (k: StackKeys) => [
  { id: k.adminUserId, email: 'admin@vigil.local', admin: true },
  { id: k.userId, email: 'user@vigil.local', admin: false },
  { id: k.otherUserId, email: 'other@vigil.local', admin: false },
];
