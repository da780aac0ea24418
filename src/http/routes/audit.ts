import type { Request, Response } from 'express';
import type { AuditEvent, AuditRecord } from '../../audit/record';
import { auditFilters, FILTER_NAMES } from '../../audit/query_text';
import type { AuditQuery, AuditReader } from '../../audit/store';
import type { Runtime } from '../../config/assemble';
import { authenticationFailed, HttpError } from '../errors';
import type { Admission } from '../limits';
import { headerCredentials } from '../sign_request';
import { authenticateAuditAdmin } from '../audit_admin';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** GET /v1/audit: the ledger, filtered and paginated, for requesters in an audit admin group. */
export async function listAudit(runtime: Runtime, store: AuditReader | undefined, admission: Admission, request: Request, response: Response): Promise<void> {
  const admin = await authenticateAuditAdmin(runtime, admission, headerCredentials(request));
  if (admin === undefined) throw authenticationFailed();
  if (admin === 'forbidden') throw new HttpError(403, 'forbidden', 'reading the audit ledger needs an audit admin group');
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
