// The live demo behind `npm start`: prints where everything is, then runs the simulated
// document-processing workload through the SDK (stack/demo/workload.ts) and the alert cycle
// (stack/demo/alerts.ts).
import { startAlertDemo } from './demo/alerts.ts';
import { startWorkload } from './demo/workload.ts';

type Status = Awaited<ReturnType<typeof import('./stack.ts').status>>;

export async function runDemo(s: Status): Promise<() => Promise<void>> {
  console.log(`
Vigil local stack is running.

  Edge functions   ${s.functions_url}/<name>     (try: curl ${s.functions_url}/health -H "apikey: ${s.publishable_key}")
  Postgres         ${s.db_url}
  Mail sink        ${s.mail_url}/api/messages   (SMTP on 127.0.0.1:${s.smtp_port})
  Webhook sink     ${s.webhook_sink_url}/_requests
  Fake upstreams   ${s.upstreams_url}/_control
  Publishable key  ${s.publishable_key}
  Secret key       ${s.secret_key}
  Admin user       ${s.admin_user_id}
  Admin JWT        ${s.admin_jwt}

Ctrl-C stops the stack.
`);
  const stops = [await startWorkload(s), await startAlertDemo(s)];
  return async () => {
    await Promise.allSettled(stops.map((stop) => stop()));
  };
}
