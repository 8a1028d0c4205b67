// Who may run probes / deliveries: the project's secret key (pg_cron through pg_net) or an admin's JWT.
import { isSecretKey, presentedKey, requireAdmin } from '../auth.ts';

export type Caller = { kind: 'secret' } | { kind: 'admin'; sub: string | null };

export async function secretOrAdmin(req: Request): Promise<Caller | Response> {
  const candidates = [req.headers.get('apikey')?.trim(), req.headers.get('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1], presentedKey(req)]
    .filter((k): k is string => !!k);
  for (const k of new Set(candidates)) if (isSecretKey(k)) return { kind: 'secret' };
  const claims = await requireAdmin(req);
  if (claims instanceof Response) return claims;
  return { kind: 'admin', sub: typeof claims.sub === 'string' ? claims.sub : null };
}
