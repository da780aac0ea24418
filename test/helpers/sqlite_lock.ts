import { Worker } from 'node:worker_threads';

/**
 * Another connection, on its own thread, that holds the write lock of a SQLite file (a new one, in
 * rollback mode) for `ms` and then commits. Resolves once the lock is held; `done()` ends the thread.
 */
export async function holdWriteLock(file: string, ms: number): Promise<{ done(): Promise<number> }> {
  const holder = new Worker(
    `const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
     const db = new Database(${JSON.stringify(file)});
     db.exec('BEGIN IMMEDIATE');
     require('node:worker_threads').parentPort.postMessage('held');
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${ms});
     db.exec('COMMIT');
     db.close();`,
    { eval: true },
  );
  await new Promise((resolve, reject) => holder.once('message', resolve).once('error', reject));
  return { done: () => holder.terminate() };
}
