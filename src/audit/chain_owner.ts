import { hostname } from 'node:os';

// A chain is written by one process, named in its id: `<host>-<pid>-<random>` (ledger.ts).

/** Whether the process that wrote a chain is known to have ended: it ran on this host and runs no more. */
export function chainOwnerGone(chain: string): boolean {
  const owner = /^(.+)-(\d+)-[0-9a-f]{8}$/.exec(chain);
  return owner !== null && owner[1] === hostname() && !processAlive(Number(owner[2]));
}

/** Whether a process of this host still runs (EPERM: it runs, as another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
