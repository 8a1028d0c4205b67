// The live demo behind `npm start`. For now it prints where everything is; later issues add the
// simulated document-processing workload and the probe/alert cycle.
type Status = Record<string, unknown>;

export async function runDemo(s: Status): Promise<() => Promise<void>> {
  console.log(`
Vigil local stack is running.

  Edge functions   ${s.functions_url}/<name>     (try: curl ${s.functions_url}/health -H "apikey: ${s.publishable_key}")
  Postgres         ${s.db_url}
  Publishable key  ${s.publishable_key}
  Secret key       ${s.secret_key}
  Admin user       ${s.admin_user_id}
  Admin JWT        ${s.admin_jwt}

Ctrl-C stops the stack.`);
  return async () => {};
}
