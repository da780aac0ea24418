// The SQLite ledger's reader thread (SqliteReaderThread): one read-only connection, one query at a time
// (each first indexes what the writers' journals hold, on a connection of its own: SqliteAuditStore).
import { parentPort, workerData } from 'node:worker_threads';
import type { ReaderCall, ReaderReply } from './sqlite_reader';
import { SqliteAuditStore } from './sqlite_store';

const store = new SqliteAuditStore((workerData as { database: string }).database, { readonly: true });
const port = parentPort!;

port.on('message', (call: ReaderCall) => {
  const method = store[call.method] as (...args: unknown[]) => Promise<unknown>;
  method.apply(store, [...call.args]).then(
    (result) => port.postMessage({ id: call.id, result } satisfies ReaderReply),
    (error: unknown) => port.postMessage({ id: call.id, error: error instanceof Error ? error.message : String(error) } satisfies ReaderReply),
  );
});
