// Where the local stack lives and which ports it uses. Everything it writes is under one
// git-ignored folder (VIGIL_STATE_DIR, default .vigil/). VIGIL_PORT_BASE shifts every port, so a
// second stack can run beside the first (the defaults match the Supabase CLI's local ports).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const base = Number(process.env.VIGIL_PORT_BASE ?? 54320);

export const paths = {
  root: repoRoot,
  state: resolve(process.env.VIGIL_STATE_DIR ?? join(repoRoot, '.vigil')),
  get pgData() { return join(this.state, 'pg', 'data'); },
  get pgRun() { return join(this.state, 'pg', 'run'); },
  get logs() { return join(this.state, 'logs'); },
  get run() { return join(this.state, 'run'); },
  get keys() { return join(this.state, 'keys.json'); },
  bootstrap: join(repoRoot, 'stack', 'bootstrap'),
  supabase: join(repoRoot, 'supabase'),
  functions: join(repoRoot, 'supabase', 'functions'),
  bin: join(repoRoot, 'node_modules', '.bin'),
};

export const ports = {
  api: base + 1, // edge functions at /functions/v1/<name> (and the dashboard later)
  db: base + 2,
  mailUi: base + 4, // mail sink HTTP API (Supabase CLI: Inbucket/Mailpit UI)
  smtp: base + 5, // mail sink SMTP
  webhookSink: base + 6,
  upstreams: base + 7, // fake upstream services for the demo
};

export const pgBin = '/usr/lib/postgresql/15/bin';
export const superuser = 'supabase_admin';
export const dbPassword = 'postgres';

export const dbUrl = (user = 'postgres') =>
  `postgresql://${user}:${dbPassword}@127.0.0.1:${ports.db}/postgres`;
export const functionsUrl = () => `http://127.0.0.1:${ports.api}/functions/v1`;
export const apiUrl = () => `http://127.0.0.1:${ports.api}`;
