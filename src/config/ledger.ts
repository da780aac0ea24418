import { existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { createAuditKey, readAuditKey, readAuditPublicKey } from '../audit/audit_key';
import { verifyResultFile } from '../audit/verify_result';
import { AuditLedger, disabledLedger, type Ledger } from '../audit/ledger';
import type { StoreLocation } from '../audit/open_store';
import { PostgresAuditStore } from '../audit/postgres_store';
import { SqliteReaderThread } from '../audit/sqlite_reader';
import { SqliteAuditStore } from '../audit/sqlite_store';
import type { AuditReader } from '../audit/store';
import { parseDuration } from './duration';
import { ConfigError, configPath, type MayflyConfig } from './load';

// The audit ledger a config describes: where it is stored, how it is written, how it is read.

/** audit.key → audit.pub */
export const auditPublicKeyFile = (keyFile: string): string => keyFile.replace(/(\.key)?$/, '.pub');

/** The store the config names: the SQLite file, or the PostgreSQL URL from `audit.url_env`. */
export function storeLocation(config: MayflyConfig, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  const audit = config.document.audit;
  if (audit.store === 'sqlite') return { kind: 'sqlite', database: configPath(config, audit.database) };
  const url = env[audit.url_env!];
  if (!url) throw new ConfigError([config.source.problem(['audit', 'url_env'], `the environment variable ${audit.url_env} is not set or empty; it must hold the PostgreSQL URL, e.g. postgres://mayfly@db.example.com/mayfly`)]);
  return { kind: 'postgres', url };
}

/**
 * Opens the audit ledger the config describes (or the disabled one). The audit key is created
 * beside the config when missing: checkpoints made with a new key still verify, and a key that was
 * replaced to hide a rewrite shows up as old checkpoints that no longer verify.
 */
export async function openLedger(config: MayflyConfig, print: (line: string) => void = () => {}, env: NodeJS.ProcessEnv = process.env): Promise<Ledger> {
  const audit = config.document.audit;
  if (!audit.enabled) return disabledLedger;
  const keyFile = configPath(config, audit.key);
  if (!existsSync(keyFile)) {
    await createAuditKey(keyFile, auditPublicKeyFile(keyFile));
    print(`Created the audit checkpoint key ${keyFile} (public key ${auditPublicKeyFile(keyFile)}).`);
  }
  return AuditLedger.open({
    store: storeLocation(config, env),
    keyPem: await readAuditKey(keyFile),
    checkpointEvery: audit.checkpoint_every,
    checkpointIntervalMs: parseDuration(audit.checkpoint_interval)!,
  });
}

/**
 * Reads the ledger. `offThread`: the server's reader, whose SQLite queries run on a thread of their
 * own so that a long search never stalls signing (PostgreSQL answers asynchronously anyway); the CLI
 * reads in-process. SQLite is opened read-only for the reads; what the writers' journals hold and
 * the file lacks is first indexed into it on a second, writing connection, so a reader needs write
 * access to the ledger (sqlite_store.ts).
 */
export async function openAuditReader(config: MayflyConfig, options: { readonly offThread: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<AuditReader> {
  const location = storeLocation(config, env);
  if (location.kind === 'postgres') return PostgresAuditStore.open(location.url);
  if (!existsSync(location.database)) throw new Error(`there is no audit ledger at ${location.database} yet`);
  return options.offThread ? new SqliteReaderThread(location.database) : new SqliteAuditStore(location.database, { readonly: true });
}

/** Where `mayfly audit verify` records its last result on this host (the console's overview reads it). */
export const ledgerVerifyResultFile = (config: MayflyConfig): string => verifyResultFile(configPath(config, config.document.audit.key));

/** The audit public key of a config's ledger: checkpoints are verified with it, proofs name it. */
export function ledgerPublicKey(config: MayflyConfig): Promise<KeyObject> {
  const keyFile = configPath(config, config.document.audit.key);
  return readAuditPublicKey(auditPublicKeyFile(keyFile), keyFile);
}
