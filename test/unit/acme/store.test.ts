import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAcmeStore } from '../../../src/acme/sqlite_store';
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
