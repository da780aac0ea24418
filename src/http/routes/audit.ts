import type { KeyObject } from 'node:crypto';
import type { Request, Response } from 'express';
import { publishedCheckpoints } from '../../audit/published_checkpoints';
import { auditFilters, FILTER_NAMES } from '../../audit/query_text';
import type { AuditEvent } from '../../audit/record';
import { proveRecord, UnsealedRecordError } from '../../audit/record_proof';
import { normalizeSerial } from '../../audit/serial';
import type { AuditQuery, AuditReader } from '../../audit/store';
import type { Runtime } from '../../config/assemble';
import { authenticationFailed, HttpError } from '../errors';
import type { Admission } from '../limits';
import { claimedIdentity, headerCredentials } from '../sign_request';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** GET /v1/audit: the ledger, filtered and paginated, for requesters in an audit admin group. */
export async function listAudit(runtime: Runtime, store: AuditReader | undefined, admission: Admission, request: Request, response: Response): Promise<void> {
  await requireAuditAdmin(runtime, admission, request);
  if (!store) throw new HttpError(404, 'audit_disabled', 'the audit ledger is disabled in this configuration');
  const query = auditQuery(request.query as Record<string, unknown>, new Date());
  const records = await store.query({ ...query, limit: (query.limit ?? DEFAULT_PAGE) + 1 });
  const page = records.slice(0, query.limit ?? DEFAULT_PAGE);
  const last = page[page.length - 1];
  const next = records.length > page.length && last ? Buffer.from(JSON.stringify({ time: (JSON.parse(last.body) as AuditEvent).time, chain: last.chain, seq: last.seq })).toString('base64url') : null;
  response.json({ records: page.map((record) => ({ chain: record.chain, seq: record.seq, hash: record.hash, event: JSON.parse(record.body) as AuditEvent })), next });
}

/** The requester is in an audit admin group of the authenticator that knows them; 401 or 403 otherwise. */
async function requireAuditAdmin(runtime: Runtime, admission: Admission, request: Request): Promise<void> {
  const credentials = headerCredentials(request);
  // Under the same caps and back-off as a sign request: every authenticator tried may run a scrypt.
  const admin = await admission.authenticate(claimedIdentity(credentials), async () => {
    let authenticated: boolean | undefined;
    for (const entry of runtime.authenticators) {
      const requester = await entry.authenticator.authenticate(credentials);
      if (!requester) continue;
      authenticated = requester.groups.some((group) => entry.auditAdminGroups.includes(group));
      if (authenticated) break;
    }
    return authenticated;
  }, runtime.authenticators.some((entry) => entry.authenticator.costly?.(credentials) ?? true));
  if (admin === undefined) throw authenticationFailed();
  if (!admin) throw new HttpError(403, 'forbidden', 'reading the audit ledger needs an audit admin group');
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
  const serial = String(request.params.serial);
  const normalized = normalizeSerial(serial);
  if (normalized === undefined) throw new HttpError(400, 'bad_serial', 'the serial must be a certificate serial in hex (at most 20 octets, colons allowed between them)');
  let proof;
  try {
    proof = await proveRecord(ledger.reader, ledger.publicKey, normalized);
  } catch (error) {
    if (error instanceof UnsealedRecordError) throw new HttpError(409, 'unsealed', error.message);
    throw error;
  }
  if (!proof) throw new HttpError(404, 'unknown_serial', `no certificate with serial ${normalized} in the ledger`);
  response.json(proof);
}

/** The parameters GET /v1/audit takes: the ledger's filters, and the page. */
const PARAMETERS = [...FILTER_NAMES, 'limit', 'after'] as const;

function auditQuery(params: Record<string, unknown>, now: Date): AuditQuery {
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
