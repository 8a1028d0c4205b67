// The stack's long-running processes, as one detached supervisor started by `stack up`:
// the edge-functions server (Deno, restarted if it dies), the pg_net worker and the local sinks.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dbUrl, paths, ports, superuser } from './config.ts';
import { functionsEnv } from './functions-env.ts';
import { loadOrCreateKeys } from './keys.ts';
import { startNetWorker } from './net-worker.ts';
import { startFakeUpstreams, startSmtpSink, startWebhookSink } from './sinks/index.ts';

const log = (scope: string) => (msg: string) => console.log(`${new Date().toISOString()} [${scope}] ${msg}`);
const pidFile = join(paths.run, 'services.pid');
const functionsPidFile = join(paths.run, 'functions.pid');

async function main() {
  writeFileSync(pidFile, String(process.pid));
  const keys = await loadOrCreateKeys();
  const env = { ...process.env, ...(await functionsEnv(keys)), DENO_NO_UPDATE_CHECK: '1' };
  const net = startNetWorker(dbUrl(superuser), log('net'));
  // Local sinks (hosted: real mail and chat services) and the demo's fake upstream services.
  const mail = await startSmtpSink({ smtpPort: ports.smtp, httpPort: ports.mailUi });
  const hooks = await startWebhookSink({ port: ports.webhookSink });
  const upstreams = await startFakeUpstreams({ port: ports.upstreams });
  log('sinks')(`mail smtp :${mail.smtpPort} api :${mail.httpPort}; webhook sink :${hooks.port}; upstreams :${upstreams.port}`);

  let stopping = false;
  let child: ChildProcess | null = null;
  let restarts = 0;
  const fnLog = createWriteStream(join(paths.logs, 'functions.log'), { flags: 'a' });
  const startFunctions = () => {
    child = spawn(join(paths.bin, 'deno'), ['run', '--allow-all', '--config', join(paths.root, 'deno.json'),
      join(paths.root, 'stack', 'functions', 'main.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: paths.root });
    child.stdout?.pipe(fnLog, { end: false });
    child.stderr?.pipe(fnLog, { end: false });
    writeFileSync(functionsPidFile, String(child.pid));
    child.on('exit', (code, signal) => {
      if (stopping) return;
      restarts++;
      log('functions')(`exited (${code ?? signal}); restarting (#${restarts})`);
      setTimeout(startFunctions, Math.min(5000, 200 * restarts));
    });
  };
  startFunctions();

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    child?.kill('SIGTERM');
    await net.stop().catch(() => {});
    await Promise.allSettled([mail.close(), hooks.close(), upstreams.close()]);
    rmSync(pidFile, { force: true });
    rmSync(functionsPidFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
