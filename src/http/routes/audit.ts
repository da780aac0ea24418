import type { Request, Response } from 'express';
import type { AuditEvent } from '../../audit/record';
import { auditFilters, FILTER_NAMES } from '../../audit/query_text';
import type { AuditQuery, AuditReader } from '../../audit/store';
import type { Runtime } from '../../config/assemble';
import { authenticationFailed, HttpError } from '../errors';
import type { Admission } from '../limits';
import { claimedIdentity, headerCredentials } from '../sign_request';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** GET /v1/audit: the ledger, filtered and paginated, for requesters in an audit admin group. */
export async function listAudit(runtime: Runtime, store: AuditReader | undefined, admission: Admission, request: Request, response: Response): Promise<void> {
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
  if (!store) throw new HttpError(404, 'audit_disabled', 'the audit ledger is disabled in this configuration');
  const query = auditQuery(request.query as Record<string, unknown>, new Date());
  const records = await store.query({ ...query, limit: (query.limit ?? DEFAULT_PAGE) + 1 });
  const page = records.slice(0, query.limit ?? DEFAULT_PAGE);
  const last = page[page.length - 1];
  const next = records.length > page.length && last ? Buffer.from(JSON.stringify({ time: (JSON.parse(last.body) as AuditEvent).time, chain: last.chain, seq: last.seq })).toString('base64url') : null;
  response.json({ records: page.map((record) => ({ chain: record.chain, seq: record.seq, hash: record.hash, event: JSON.parse(record.body) as AuditEvent })), next });
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
