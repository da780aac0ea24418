import { dirname, join } from 'node:path';
import { PostgresAcmeStore } from '../acme/postgres_store';
import { SqliteAcmeStore } from '../acme/sqlite_store';
import type { AcmeStore } from '../acme/store';
import { storeLocation } from './ledger';
import { configPath, type MayflyConfig } from './load';

/** Whether any RA serves ACME. */
export const servesAcme = (config: MayflyConfig): boolean => [...config.registrationAuthorities.values()].some((ra) => ra.acme !== undefined);

/**
 * ACME's state sits where the ledger does: acme.db beside the SQLite ledger, or the ledger's
 * PostgreSQL database, which replicas share (an order begun on one is finalized on another).
 */
export async function openAcmeStore(config: MayflyConfig, env: NodeJS.ProcessEnv = process.env): Promise<AcmeStore> {
  const { audit } = config.document;
  if (audit.store === 'postgres') {
    const location = storeLocation(config, env);
    if (location.kind === 'postgres') return PostgresAcmeStore.open(location.url);
  }
  return new SqliteAcmeStore(join(dirname(configPath(config, audit.database)), 'acme.db'));
}
