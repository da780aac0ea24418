import type { KeyObject } from 'node:crypto';
import type { Request, Response } from 'express';
import { publishedCheckpoints } from '../../audit/published_checkpoints';
import { auditFilters, FILTER_NAMES } from '../../audit/query_text';
import type { AuditEvent, AuditRecord } from '../../audit/record';
import { proveRecord, type RecordProof } from '../../audit/record_proof';
import { normalizeSerial } from '../../audit/serial';
import type { AuditQuery, AuditReader } from '../../audit/store';
import type { Runtime } from '../../config/assemble';
import { requireAuditAdmin } from '../audit_admin';
import { HttpError } from '../errors';
import type { Admission } from '../limits';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** GET /v1/audit: the ledger, filtered and paginated, for requesters in an audit admin group. */
export async function listAudit(runtime: Runtime, store: AuditReader | undefined, admission: Admission, request: Request, response: Response): Promise<void> {
  await requireAuditAdmin(runtime, admission, request);
  if (!store) throw new HttpError(404, 'audit_disabled', 'the audit ledger is disabled in this configuration');
  const { records, next } = await auditPage(store, auditQuery(request.query as Record<string, unknown>, new Date()));
  response.json({ records: records.map((record) => ({ chain: record.chain, seq: record.seq, hash: record.hash, event: JSON.parse(record.body) as AuditEvent })), next });
}

/** One page of the records a query matches, and the cursor (`after`) of the next page, or null at the end. */
export async function auditPage(store: AuditReader, query: AuditQuery): Promise<{ records: AuditRecord[]; next: string | null }> {
  const records = await store.query({ ...query, limit: (query.limit ?? DEFAULT_PAGE) + 1 });
  const page = records.slice(0, query.limit ?? DEFAULT_PAGE);
  const last = page[page.length - 1];
  const next = records.length > page.length && last ? Buffer.from(JSON.stringify({ time: (JSON.parse(last.body) as AuditEvent).time, chain: last.chain, seq: last.seq })).toString('base64url') : null;
  return { records: page, next };
}

/** The ledger and its public key, for the proof routes; 404 when the ledger is disabled. */
export interface ProvableLedger {
  readonly reader: AuditReader;
  readonly publicKey: KeyObject;
}

/**
 * GET /v1/audit/checkpoint: the latest signed checkpoint of every chain (C2SP signed notes, one per
 * chain, separated by a blank line), for a witness to keep; 404 while no chain is sealed yet.
 */
export async function auditCheckpoint(runtime: Runtime, ledger: ProvableLedger | undefined, admission: Admission, request: Request, response: Response): Promise<void> {
  await requireAuditAdmin(runtime, admission, request);
  if (!ledger) throw new HttpError(404, 'audit_disabled', 'the audit ledger is disabled in this configuration');
  const text = await publishedCheckpoints(ledger.reader);
  if (text === '') throw new HttpError(404, 'no_checkpoint', 'the ledger has no checkpoint yet');
  response.type('text/plain; charset=utf-8').send(text);
}

/** GET /v1/audit/proof/<serial>: the record that issued the certificate, with its inclusion proof and checkpoint. */
export async function auditProof(runtime: Runtime, ledger: ProvableLedger | undefined, admission: Admission, request: Request, response: Response): Promise<void> {
  await requireAuditAdmin(runtime, admission, request);
  if (!ledger) throw new HttpError(404, 'audit_disabled', 'the audit ledger is disabled in this configuration');
  response.json(await recordProof(ledger, String(request.params.serial)));
}

/**
 * The proof of a serial as someone typed it (any form normalizeSerial reads; 400 otherwise), for
 * GET /v1/audit/proof and the console's record page; 404 for an unknown serial. An unsealed record's
 * UnsealedRecordError is a 409 (errors.ts).
 */
export async function recordProof(ledger: ProvableLedger, serialText: string): Promise<RecordProof> {
  const serial = normalizeSerial(serialText);
  if (serial === undefined) throw new HttpError(400, 'bad_serial', 'the serial must be a certificate serial in hex (at most 20 octets, colons allowed between them)');
  const proof = await proveRecord(ledger.reader, ledger.publicKey, serial);
  if (!proof) throw new HttpError(404, 'unknown_serial', `no certificate with serial ${serial} in the ledger`);
  return proof;
}

/** The parameters GET /v1/audit takes: the ledger's filters, and the page. */
const PARAMETERS = [...FILTER_NAMES, 'limit', 'after'] as const;

/** The query GET /v1/audit's parameters ask for (the console's search form sends the same); a bad one is a 400. */
export function auditQuery(params: Record<string, unknown>, now: Date): AuditQuery {
  // A misspelt filter (?users=bob) ignored would answer with every record, as if it matched.
  const unknown = Object.keys(params).find((name) => !(PARAMETERS as readonly string[]).includes(name));
  if (unknown !== undefined) throw new HttpError(400, 'bad_query', `unknown parameter ${JSON.stringify(unknown.slice(0, 64))}; the parameters are ${[...PARAMETERS].sort().join(', ')}`);
  const text = (name: string): string | undefined => {
    const value = params[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw new HttpError(400, 'bad_query', `the ${name} parameter must be given once, as text`);
    return value;
  };
  const filters = auditFilters(Object.fromEntries(FILTER_NAMES.map((name) => [name, text(name)])), now);
  const limitText = text('limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE)) throw new HttpError(400, 'bad_query', `limit must be a whole number from 1 to ${MAX_PAGE}`);
  const after = text('after');
  let cursor: AuditQuery['after'];
  if (after !== undefined) {
    try {
      const decoded = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as { time: unknown; chain: unknown; seq: unknown };
      if (typeof decoded.time !== 'string' || typeof decoded.chain !== 'string' || typeof decoded.seq !== 'number') throw new Error();
      cursor = { time: decoded.time, chain: decoded.chain, seq: decoded.seq };
    } catch {
      throw new HttpError(400, 'bad_query', 'after is not a cursor this server gave out');
    }
  }
  return { ...filters, ...(limit !== undefined ? { limit } : {}), ...(cursor ? { after: cursor } : {}) };
}
