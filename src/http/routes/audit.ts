import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AuditEvent, AuditRecord } from '../../audit/record';
import type { AuditQuery, AuditReader } from '../../audit/store';
import type { Runtime } from '../../config/assemble';
import { authenticationFailed, HttpError } from '../errors';
import type { Admission } from '../limits';
import { headerCredentials } from '../sign_request';
import { authenticateAuditAdmin } from '../audit_admin';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const OUTCOMES = new Set(['issued', 'refused', 'error']);
/**
 * RFC 3339 5.6: a full-date, or a date-time with its offset. Date.parse takes much else (99999-01-01,
 * 'Jan 1 99999'), whose ISO text (+099999-...) sorts before every record's time.
 */
const RFC3339_TIME = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

/** GET /v1/audit: the ledger, filtered and paginated, for requesters in an audit admin group. */
export async function listAudit(runtime: Runtime, store: AuditReader | undefined, admission: Admission, request: Request, response: Response): Promise<void> {
  const admin = await authenticateAuditAdmin(runtime, admission, headerCredentials(request));
  if (admin === undefined) throw authenticationFailed();
  if (admin === 'forbidden') throw new HttpError(403, 'forbidden', 'reading the audit ledger needs an audit admin group');
  if (!store) throw new HttpError(404, 'audit_disabled', 'the audit ledger is disabled in this configuration');
  const { records, next } = await auditPage(store, auditQuery(request.query as Record<string, unknown>));
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

/** The query GET /v1/audit's parameters ask for (the console's search form sends the same); a bad one is a 400. */
export function auditQuery(params: Record<string, unknown>): AuditQuery {
  const text = (name: string): string | undefined => {
    const value = params[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw new HttpError(400, 'bad_query', `the ${name} parameter must be given once, as text`);
    return value;
  };
  const time = (name: string): string | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    // The records' times are compared as ISO 8601 text, which sorts only within years 0000-9999.
    const iso = RFC3339_TIME.safeParse(value).success ? new Date(Date.parse(value)).toISOString() : undefined;
    if (iso === undefined || !/^\d{4}-/.test(iso)) {
      throw new HttpError(400, 'bad_query', `the ${name} parameter is not an RFC 3339 date (2026-01-31) or time with offset (2026-01-31T12:00:00Z) within the years 0000-9999`);
    }
    return iso;
  };
  const outcome = text('outcome');
  if (outcome !== undefined && !OUTCOMES.has(outcome)) throw new HttpError(400, 'bad_query', 'outcome must be issued, refused or error');
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
  const fields = { ra: text('ra'), since: time('since'), until: time('until'), name: text('name'), outcome, serial: text('serial'), limit, after: cursor };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as AuditQuery;
}
