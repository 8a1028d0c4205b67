// Small response helpers: every error names a status, a machine-readable code and a reason.
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

export function error(status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return json(status, { error: code, message, ...extra }, headers);
}

export function methodNotAllowed(allowed: string[]): Response {
  return error(405, 'method_not_allowed', `use ${allowed.join(' or ')}`, {}, { allow: allowed.join(', ') });
}
