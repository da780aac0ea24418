import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAcmeStore } from '../../../src/acme/sqlite_store';
import { holdWriteLock } from '../../helpers/sqlite_lock';
import { acmeStoreContract } from './store_contract';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('the SQLite ACME store', () => {
  acmeStoreContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayfly-acme-store-'));
    dirs.push(dir);
    return new SqliteAcmeStore(join(dir, 'acme.db'));
  });
});

// `serve --workers N` with ACME on opens one new acme.db in every worker at once. Turning it to WAL
// while another connection held its write lock failed at once ("database is locked"): SQLite does
// not wait busy_timeout there.
it('opens a new file while another connection holds its write lock', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-acme-store-'));
  dirs.push(dir);
  const file = join(dir, 'acme.db');
  const holder = await holdWriteLock(file, 300);
  try {
    const store = new SqliteAcmeStore(file);
    try {
      await store.addNonce('n', new Date(Date.now() + 60_000));
      expect(await store.consumeNonce('n', new Date())).toBe(true);
    } finally {
      await store.close();
    }
  } finally {
    await holder.done();
  }
});
