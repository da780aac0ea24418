// The ACME state store on a real PostgreSQL from Debian, started for this file: the same contract
// as the SQLite store (test/unit/acme/store_contract.ts), each test on an emptied database.
import { Client } from 'pg';
import { PostgresAcmeStore } from '../../../src/acme/postgres_store';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres';
import { acmeStoreContract } from '../../unit/acme/store_contract';

jest.setTimeout(120_000);

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(() => postgres?.destroy());

describe('the PostgreSQL ACME store', () => {
  acmeStoreContract(async () => {
    const client = new Client({ connectionString: postgres.url });
    await client.connect();
    await client.query('DROP TABLE IF EXISTS acme_objects, acme_nonces');
    await client.end();
    return PostgresAcmeStore.open(postgres.url);
  });
});
