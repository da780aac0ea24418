// A throwaway PostgreSQL cluster from Debian's `postgresql` package, on loopback, for the tests of the
// PostgreSQL ledger store: initdb into a temporary folder, serve on a free port, remove it afterwards.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free_port';

export interface TestPostgres {
  /** postgres://mayfly@127.0.0.1:PORT/mayfly */
  readonly url: string;
  readonly port: number;
  /** Stops the server (fast shutdown), as an outage would; `start` brings it back on the same port. */
  stop(): void;
  start(): void;
  /** Stops the server and removes its files. */
  destroy(): void;
}

/** The newest installed server's bin folder, or undefined when PostgreSQL is not installed. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

/** PostgreSQL refuses to run as root; the package's `postgres` user runs it then. */
function asServerUser(command: string, args: readonly string[]): void {
  const root = userInfo().uid === 0;
  execFileSync(root ? 'runuser' : command, root ? ['-u', 'postgres', '--', command, ...args] : [...args], { stdio: 'pipe', timeout: 60_000 });
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it');
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-pg-'));
  if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = join(dir, 'data');
  const port = await freePort();
  asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'mayfly', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  // Loopback only, the socket in the cluster's own folder; fsync stays on, as the ledger's promise needs.
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=200`;
  const start = () => asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const stop = () => asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  asServerUser(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'mayfly', 'mayfly']);
  let running = true;
  return {
    url: `postgres://mayfly@127.0.0.1:${port}/mayfly`,
    port,
    stop() {
      if (running) stop();
      running = false;
    },
    start() {
      if (!running) start();
      running = true;
    },
    destroy() {
      try {
        if (running) stop();
      } finally {
        running = false;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
