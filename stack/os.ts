// Running programs for the stack: PostgreSQL refuses to run as root, so as root its tools run as
// the `postgres` OS user (runuser); as anyone else they run as that user.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';

export const isRoot = process.getuid?.() === 0;
const pgOsUser = 'postgres';

export function asPgUser(cmd: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', pgOsUser, '--', cmd, ...args]] : [cmd, args];
}

export function runAsPgUser(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): SpawnSyncReturns<string> {
  const [c, a] = asPgUser(cmd, args);
  const r = spawnSync(c, a, { encoding: 'utf8' });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  }
  return r;
}

/** Creates a directory the PostgreSQL OS user owns. */
export function pgOwnedDir(path: string): void {
  mkdirSync(path, { recursive: true });
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', pgOsUser], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', pgOsUser], { encoding: 'utf8' }).trim());
    chownSync(path, uid, gid);
  }
}

/** The PostgreSQL OS user must be able to reach the state folder through every parent. */
export function assertPgCanReach(path: string): void {
  if (!isRoot) return;
  const r = spawnSync('runuser', ['-u', pgOsUser, '--', 'test', '-w', path]);
  if (r.status !== 0) {
    throw new Error(
      `the postgres OS user cannot write ${path}: every parent folder needs o+x ` +
        `(or set VIGIL_STATE_DIR to a folder it can reach, e.g. /tmp/vigil)`,
    );
  }
}
