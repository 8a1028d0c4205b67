// The local PostgreSQL 15 cluster: created on first `up`, pg_cron preloaded, listening on
// 127.0.0.1 only. The bootstrap superuser is `supabase_admin`, as on hosted Supabase.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { dbPassword, dbUrl, paths, pgBin, ports, superuser } from './config.ts';
import { assertPgCanReach, pgOwnedDir, runAsPgUser } from './os.ts';

const pgCtl = join(pgBin, 'pg_ctl');
const logFile = () => join(paths.state, 'pg', 'postgres.log');

export function clusterExists(): boolean {
  return existsSync(join(paths.pgData, 'PG_VERSION'));
}

export function isRunning(): boolean {
  if (!clusterExists()) return false;
  return runAsPgUser(pgCtl, ['-D', paths.pgData, 'status'], { allowFail: true }).status === 0;
}

export function initCluster(): void {
  pgOwnedDir(join(paths.state, 'pg'));
  assertPgCanReach(join(paths.state, 'pg'));
  pgOwnedDir(paths.pgRun);
  const pwfile = join(paths.state, 'pg', 'pwfile');
  writeFileSync(pwfile, `${dbPassword}\n`, { mode: 0o644 });
  runAsPgUser(join(pgBin, 'initdb'), [
    '-D', paths.pgData, '-U', superuser, `--pwfile=${pwfile}`,
    '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8',
  ]);
  appendFileSync(join(paths.pgData, 'postgresql.conf'), [
    '',
    '# Vigil local stack',
    `port = ${ports.db}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${paths.pgRun}'`,
    'max_connections = 200',
    "shared_preload_libraries = 'pg_cron'",
    "cron.database_name = 'postgres'",
    // Jobs run in background workers, so they need no password to connect back.
    'cron.use_background_workers = on',
    'cron.max_running_jobs = 8',
    'max_worker_processes = 32',
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    '',
  ].join('\n'));
}

export function startCluster(): void {
  runAsPgUser(pgCtl, ['-D', paths.pgData, '-l', logFile(), '-w', '-t', '60', 'start']);
}

export function stopCluster(): void {
  if (isRunning()) runAsPgUser(pgCtl, ['-D', paths.pgData, '-m', 'fast', '-w', 'stop']);
}

export function adminSql() {
  return postgres(dbUrl(superuser), { max: 1, onnotice: () => {} });
}

export async function waitForDb(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sql = postgres(dbUrl(superuser), { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
}
