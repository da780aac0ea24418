import type Database from 'better-sqlite3';

// A SQLite file that several connections write (the ledger of `serve --workers N`, ACME's state):
// WAL, and waits for another connection's lock instead of failing at once.

/** How long a connection waits for another's lock before it gives up. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * WAL, waiting up to busy_timeout. PRAGMA journal_mode = WAL reads the file's header and then asks for the
 * write lock from within that read, where SQLite answers SQLITE_BUSY at once instead of waiting
 * busy_timeout: a writer opening a new file while another converts it failed ("database is locked").
 * It waits here.
 */
export function enterWalMode(db: Database.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
