#!/usr/bin/env node
// Installs what `npm start` / `npm test` need on a fresh machine: npm packages (npm ci) and the
// Debian packages behind the local stack (PostgreSQL 15, pg_cron, pgTAP + pg_prove, plpgsql_check).
// Plain Node with no dependencies: it runs before node_modules exists.
import { existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const aptNeeds = [
  { pkg: 'postgresql-15', file: '/usr/lib/postgresql/15/bin/postgres' },
  { pkg: 'postgresql-15-cron', file: '/usr/lib/postgresql/15/lib/pg_cron.so' },
  { pkg: 'postgresql-15-pgtap', file: '/usr/share/postgresql/15/extension/pgtap.control' },
  { pkg: 'pgtap', file: '/usr/bin/pg_prove' },
  { pkg: 'postgresql-15-plpgsql-check', file: '/usr/lib/postgresql/15/lib/plpgsql_check.so' },
];

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
}

const missing = aptNeeds.filter((n) => !existsSync(n.file)).map((n) => n.pkg);
if (missing.length > 0) {
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : ['sudo', '-n'];
  console.error(`[vigil] installing Debian packages: ${missing.join(' ')}`);
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const exec = (args) => execFileSync(prefix[0] ?? args[0], prefix.length ? [...prefix.slice(1), ...args] : args.slice(1),
      { stdio: ['ignore', 'inherit', 'inherit'], env });
    exec(['apt-get', 'update', '-qq']);
    exec(['apt-get', 'install', '-y', '-qq', ...missing]);
  } catch (e) {
    console.error(`[vigil] could not install ${missing.join(' ')}: run as root or install them with apt-get (${e.message})`);
    process.exit(1);
  }
}

const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');
const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000);
if (stale) {
  // `npm install`, not `npm ci`: the npm here writes lockfiles without other platforms' optional
  // packages (deno, supabase CLI binaries), which `npm ci` then rejects as out of sync. With an
  // up-to-date lockfile `npm install` installs exactly the locked versions and leaves it unchanged.
  console.error('[vigil] installing npm dependencies');
  run('npm', ['install', '--no-audit', '--no-fund']);
}
