import { PostgresAuditStore } from './postgres_store';
import { SqliteAuditStore } from './sqlite_store';
import type { AuditStore } from './store';

/** Where a ledger lives: a SQLite file (the embedded default) or a PostgreSQL database replicas share. */
export type StoreLocation = { readonly kind: 'sqlite'; readonly database: string } | { readonly kind: 'postgres'; readonly url: string };

/** Opens the store for writing (the SQLite file and either schema are created or migrated as needed). */
export async function openAuditStore(location: StoreLocation): Promise<AuditStore> {
  return location.kind === 'sqlite' ? new SqliteAuditStore(location.database) : PostgresAuditStore.open(location.url);
}

/** What the ledger is, for messages: the file, or the database without its credentials. */
export function describeStore(location: StoreLocation): string {
  if (location.kind === 'sqlite') return location.database;
  const url = new URL(location.url);
  return `postgres://${url.host}${url.pathname}`;
}
