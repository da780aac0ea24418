import { JournaledSqliteStore } from './journaled_store';
import { PostgresAuditStore } from './postgres_store';
import { SqliteAuditStore } from './sqlite_store';
import type { AuditStore } from './store';

/** Where a ledger lives: a SQLite file (the embedded default) or a PostgreSQL database replicas share. */
export type StoreLocation = { readonly kind: 'sqlite'; readonly database: string } | { readonly kind: 'postgres'; readonly url: string };

/**
 * Opens the store for writing (the SQLite file and either schema are created or migrated as needed).
 * `chain`: the writer of that chain, whose SQLite records go through its journal (journaled_store.ts).
 */
export async function openAuditStore(location: StoreLocation, chain?: string): Promise<AuditStore> {
  if (location.kind === 'postgres') return PostgresAuditStore.open(location.url);
  return chain === undefined ? new SqliteAuditStore(location.database) : new JournaledSqliteStore(location.database, chain);
}

/** What the ledger is, for messages: the file, or the database without its credentials. */
export function describeStore(location: StoreLocation): string {
  if (location.kind === 'sqlite') return location.database;
  const url = new URL(location.url);
  return `postgres://${url.host}${url.pathname}`;
}
