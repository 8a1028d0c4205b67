// The environment hosted Supabase gives every edge function, built from this stack's keys.
import { join } from 'node:path';
import { apiUrl, dbUrl, paths, ports } from './config.ts';
import { jwks, signJwt, type StackKeys } from './keys.ts';

export async function functionsEnv(k: StackKeys): Promise<Record<string, string>> {
  const tenYears = 10 * 365 * 24 * 3600;
  return {
    SUPABASE_URL: apiUrl(),
    SUPABASE_DB_URL: dbUrl('postgres'),
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: k.publishableKey }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: k.secretKey }),
    SUPABASE_JWKS: JSON.stringify(jwks(k)),
    // Legacy JWT-based keys, still set on hosted projects.
    SUPABASE_ANON_KEY: await signJwt(k, { role: 'anon' }, tenYears),
    SUPABASE_SERVICE_ROLE_KEY: await signJwt(k, { role: 'service_role' }, tenYears),
    VIGIL_FUNCTIONS_DIR: paths.functions,
    VIGIL_CONFIG_TOML: join(paths.supabase, 'config.toml'),
    VIGIL_API_PORT: String(ports.api),
  };
}
