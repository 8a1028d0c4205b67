// npm run stack -- <up|down|reset|status [--json]|restart-functions>; npm start; npm test.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dbPassword, paths, ports } from './config.ts';
import { down, reset, restartFunctions, running, status, supabaseCli, up } from './stack.ts';
import { runDemo } from './demo.ts';

const [cmd = 'status', ...rest] = process.argv.slice(2);

async function test(): Promise<number> {
  const wasRunning = running();
  await up();
  // A stack left running from earlier may serve older function code.
  if (wasRunning) await restartFunctions();
  const results: { step: string; ok: boolean }[] = [];
  const step = (name: string, ok: boolean) => { results.push({ step: name, ok }); };

  const tsc = spawnSync(join(paths.bin, 'tsc'), ['--noEmit', '-p', '.'], { stdio: 'inherit', cwd: paths.root });
  const entries = [join('stack', 'functions', 'main.ts'), ...readdirSync(paths.functions)
    .filter((d) => !d.startsWith('_') && existsSync(join(paths.functions, d, 'index.ts')))
    .map((d) => join('supabase', 'functions', d, 'index.ts'))];
  const denoCheck = spawnSync(join(paths.bin, 'deno'), ['check', '--quiet', '--no-lock', '--config', 'deno.json', ...entries],
    { stdio: 'inherit', cwd: paths.root, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } });
  step('typecheck (tsc strict + deno check of every function)', tsc.status === 0 && denoCheck.status === 0);

  const pgEnv = {
    ...process.env, PGHOST: '127.0.0.1', PGPORT: String(ports.db), PGUSER: 'postgres', PGPASSWORD: dbPassword,
    PGDATABASE: 'postgres', PGOPTIONS: '-c search_path=public,extensions',
  };
  const prove = spawnSync('pg_prove', ['--ext', '.sql', '-r', '--failures', join(paths.supabase, 'tests')],
    { stdio: 'inherit', env: pgEnv });
  step('pgTAP (pg_prove supabase/tests)', prove.status === 0);

  const vitest = spawnSync(join(paths.bin, 'vitest'), ['run', ...rest], { stdio: 'inherit', cwd: paths.root });
  step('vitest', vitest.status === 0);

  const url = `--remote=${(await status()).db_url}`;
  const advisors = supabaseCli(['db', 'advisors', url, '--level', 'warn', '--fail-on', 'warn']);
  step('supabase db advisors --fail-on warn', advisors.status === 0);
  const lint = supabaseCli(['db', 'lint', url, '--schema', 'public,vigil_private', '--level', 'warning', '--fail-on', 'warning']);
  step('supabase db lint', lint.status === 0);

  if (!wasRunning) await down();
  console.log('\nVigil test summary');
  for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.step}`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  switch (cmd) {
    case 'up': await up(); return 0;
    case 'down': await down(); return 0;
    case 'reset': await reset(); return 0;
    case 'restart-functions': await restartFunctions(); return 0;
    case 'status': {
      const s = await status();
      if (rest.includes('--json')) console.log(JSON.stringify(s));
      else for (const [k, v] of Object.entries(s)) console.log(`${k.padEnd(18)} ${v}`);
      return 0;
    }
    case 'start': {
      await up();
      const s = await status();
      const stopDemo = await runDemo(s);
      // Ctrl-C reaches every process of the foreground group and tsx relays it too, so the signal
      // may arrive more than once: keep a handler installed until the stack is down.
      const keepAlive = setInterval(() => {}, 1 << 30); // signal handlers alone do not keep Node running
      await new Promise<void>((resolve) => {
        process.on('SIGINT', () => resolve());
        process.on('SIGTERM', () => resolve());
      });
      clearInterval(keepAlive);
      console.error('\n[vigil] stopping');
      await stopDemo();
      await down();
      return 0;
    }
    case 'test': return test();
    default:
      console.error('usage: npm run stack -- up | down | reset | status [--json] | restart-functions');
      return 2;
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(`[vigil] ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
