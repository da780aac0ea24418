import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

// A chain is written by one process, named in its id: `<host>-<pid>-<random>`. The id names the
// chain's journal file too (journal.ts), so it holds only [A-Za-z0-9._-]: a host name with any other
// character (a '/' would leave the journal folder) is written with '_' in its place.

const CHAIN_ID = /^([A-Za-z0-9._-]+)-(\d+)-[0-9a-f]{8}$/;

/** A host as chain ids name it. */
const chainHost = (host: string): string => host.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || 'host';

/** A new chain's id, for this process (`host`: this machine's name, unless a test gives one). */
export const newChainId = (host = hostname()): string => `${chainHost(host)}-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Whether a name is a chain id as Mayfly makes them: anything else in the journal folder is not a journal. */
export const isChainId = (name: string): boolean => CHAIN_ID.test(name);

/** Whether the process that wrote a chain is known to have ended: it ran on this host and runs no more. */
export function chainOwnerGone(chain: string): boolean {
  const owner = CHAIN_ID.exec(chain);
  return owner !== null && owner[1] === chainHost(hostname()) && !processAlive(Number(owner[2]));
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
