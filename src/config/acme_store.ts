import { dirname, join } from 'node:path';
import { SqliteAcmeStore } from '../acme/sqlite_store';
import type { AcmeStore } from '../acme/store';
import { configPath, type MayflyConfig } from './load';

/** Whether any RA serves ACME. */
export const servesAcme = (config: MayflyConfig): boolean => [...config.registrationAuthorities.values()].some((ra) => ra.acme !== undefined);

/** ACME's state store: acme.db beside the SQLite ledger (or beside the config when the ledger is elsewhere). */
export function openAcmeStore(config: MayflyConfig): AcmeStore {
  const { audit } = config.document;
  const folder = audit.store === 'sqlite' ? dirname(configPath(config, audit.database)) : dirname(config.source.file);
  return new SqliteAcmeStore(join(folder, 'acme.db'));
}
