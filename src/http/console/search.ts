import type { Request, Response } from 'express';
import { exportHeader, exportRecord, recordReasons, recordUser, type ExportFormat } from '../../audit/export';
import type { AuditEvent, AuditRecord } from '../../audit/record';
import type { AuditQuery, AuditReader } from '../../audit/store';
import type { Runtime } from '../../config/assemble';
import { describeError, HttpError } from '../errors';
import { auditPage, auditQuery } from '../routes/audit';
import { html, queryString, type Html } from './html';
import { page } from './layout';
import { sessionOf } from './login';

/** The search form's fields: GET /v1/audit's parameters, so both answer a query alike. */
const FIELDS = ['name', 'serial', 'user', 'source', 'validator', 'outcome', 'ra', 'since', 'until'] as const;
const PAGE_SIZE = 50;
const EXPORT_PAGE = 1000;
const EXPORT_TYPES: Readonly<Record<ExportFormat, string>> = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson; charset=utf-8', cadf: 'application/x-ndjson; charset=utf-8' };

type Criteria = Partial<Record<(typeof FIELDS)[number] | 'after', string>>;

/** The fields filled in (an empty field is no filter), each given once. */
function criteriaOf(request: Request): Criteria {
  const criteria: Criteria = {};
  for (const name of [...FIELDS, 'after'] as const) {
    const value = request.query[name];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string') throw new HttpError(400, 'bad_query', `the ${name} field must be given once`);
    criteria[name] = value.trim();
  }
  return criteria;
}

/** A record's names as a reader looks for them: the subject, then the SANs. */
export const recordNames = (event: AuditEvent): string[] => [...new Set([...(event.dns_names ?? []), ...(event.ip_addresses ?? [])])];

export const recordLink = (record: AuditRecord): string => `/ui/record/${encodeURIComponent(record.chain)}/${record.seq}`;

/** GET /ui/search: the form, and the records it matches a page at a time; `format=csv|jsonl` exports them all. */
export async function search(runtime: Runtime, reader: AuditReader, request: Request, response: Response): Promise<void> {
  const criteria = criteriaOf(request);
  const format = request.query.format;
  if (format === 'csv' || format === 'jsonl' || format === 'cadf') return exportAll(reader, criteria, format, response);
  if (format !== undefined) throw new HttpError(400, 'bad_query', 'format must be csv, jsonl or cadf');
  const searched = Object.keys(criteria).length > 0 || request.query.go !== undefined;
  const results = searched ? await searchResults(reader, criteria, response) : '';
  response.type('html').send(page({ title: 'Search', session: sessionOf(response), section: 'search' }, html`${searchForm(runtime, criteria)}${results}`));
}

/** A page of matches; a filter typed wrong (since=06/12/2026) is a 400 that keeps the form as typed, with the reason. */
async function searchResults(reader: AuditReader, criteria: Criteria, response: Response): Promise<Html> {
  let query: AuditQuery;
  try {
    query = auditQuery(criteria, new Date());
  } catch (error) {
    const described = describeError(error);
    if (described.status !== 400) throw error;
    response.status(400);
    return html`<p class="error" role="alert" id="search-error">${described.message}</p>`;
  }
  const { records, next } = await auditPage(reader, { ...query, limit: PAGE_SIZE });
  return resultsTable(criteria, records, next);
}

/** Every match, a store page at a time, written as it is read (a year of records never sits in memory). */
async function exportAll(reader: AuditReader, criteria: Criteria, format: ExportFormat, response: Response): Promise<void> {
  let after = criteria.after;
  let first = true;
  const now = new Date(); // `since=24h` means the same instant on every page
  do {
    // The query is checked (a 400) before anything is sent.
    const { records, next } = await auditPage(reader, { ...auditQuery({ ...criteria, after }, now), limit: EXPORT_PAGE });
    if (first) {
      response.type(EXPORT_TYPES[format]).set('Content-Disposition', `attachment; filename="mayfly-audit.${format}"`);
      const header = exportHeader(format);
      if (header !== undefined) response.write(`${header}\n`);
      first = false;
    }
    for (const record of records) response.write(`${exportRecord(record, format)}\n`);
    after = next ?? undefined;
  } while (after !== undefined);
  response.end();
}

function searchForm(runtime: Runtime, criteria: Criteria): Html {
  const text = (name: keyof Criteria, label: string, hint: string) =>
    html`<div class="field"><label for="${name}">${label}</label> <input id="${name}" name="${name}" value="${criteria[name] ?? ''}" aria-describedby="${name}-hint"> <small id="${name}-hint">${hint}</small></div>`;
  const choice = (name: keyof Criteria, label: string, options: readonly string[]) =>
    html`<div class="field"><label for="${name}">${label}</label> <select id="${name}" name="${name}"><option value="">any</option>${options.map(
      (option) => html`<option${option === criteria[name] ? html` selected` : ''}>${option}</option>`,
    )}</select></div>`;
  return html`<form method="get" action="/ui/search" class="search" role="search">
${text('name', 'Name', 'glob over the CN and SANs, e.g. *.example.com')}
${text('serial', 'Serial', 'hex, with or without colons, any case')}
${text('user', 'Requester', 'user name')}
${text('source', 'Source', 'an address or a CIDR, e.g. 10.0.0.0/8')}
${text('validator', 'Refused by', 'a validator name, e.g. common_name')}
${choice('outcome', 'Outcome', ['issued', 'refused', 'error', 'accepted'])}
${choice('ra', 'Registration authority', [...runtime.registrationAuthorities.keys()])}
${text('since', 'Since', '24h, 7d, today, yesterday or 2026-12-01T00:00:00Z')}
${text('until', 'Until', 'the same forms')}
<button type="submit" name="go" value="1">Search</button>
</form>`;
}

function resultsTable(criteria: Criteria, records: readonly AuditRecord[], next: string | null): Html {
  const exportLink = (format: string) => `/ui/search${queryString({ ...criteria, after: undefined, format })}`;
  const rows = records.map((record) => {
    const event = JSON.parse(record.body) as AuditEvent;
    return html`<tr>
<td><a href="${recordLink(record)}">${event.time}</a></td>
<td class="outcome-${event.outcome}">${event.outcome}</td>
<td>${event.ra}</td>
<td>${recordUser(event)}</td>
<td>${event.source}</td>
<td>${recordNames(event).join(', ')}</td>
<td class="serial">${event.certificate?.serial ?? ''}</td>
<td>${recordReasons(event).join('; ')}</td>
</tr>`;
  });
  return html`<section aria-labelledby="results-heading">
<h2 id="results-heading">Results</h2>
<p>Export every match: <a href="${exportLink('csv')}">CSV</a> · <a href="${exportLink('jsonl')}">JSON lines</a></p>
${records.length === 0
  ? html`<p class="empty">No record matches.</p>`
  : html`<table class="records">
<caption>${records.length} record${records.length === 1 ? '' : 's'}${next ? ' (more on the next page)' : ''}, oldest first</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Outcome</th><th scope="col">RA</th><th scope="col">Requester</th><th scope="col">Source</th><th scope="col">Names</th><th scope="col">Serial</th><th scope="col">Reasons</th></tr></thead>
<tbody>${rows}</tbody>
</table>`}
${next ? html`<p><a rel="next" href="/ui/search${queryString({ ...criteria, after: next })}">Next page</a></p>` : ''}
</section>`;
}
