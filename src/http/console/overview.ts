import type { Request, Response } from 'express';
import { EXPIRING_WINDOW_MS, type AuditOverview, type AuditReader } from '../../audit/store';
import { readVerifyResult, type VerifyResult } from '../../audit/verify_result';
import { html, type Html } from './html';
import { page } from './layout';
import { sessionOf } from './login';

const RANGES = { day: 86_400_000, week: 7 * 86_400_000 } as const;
type Range = keyof typeof RANGES;
/** Unsealed records are counted up to here; past it the page says "more than". */
const UNSEALED_COUNT_LIMIT = 1000;

/** GET /ui/?range=day|week: the last day or week at a glance, and the ledger's state. */
export async function showOverview(reader: AuditReader, verifyResultFile: string | undefined, request: Request, response: Response): Promise<void> {
  const range: Range = request.query.range === 'week' ? 'week' : 'day';
  const until = new Date();
  const since = new Date(until.getTime() - RANGES[range]);
  const [overview, ledger] = await Promise.all([reader.overview({ since: since.toISOString(), until: until.toISOString() }), ledgerState(reader, verifyResultFile === undefined ? undefined : await readVerifyResult(verifyResultFile))]);
  const content = html`<nav aria-label="Range"><p>Showing the last <a href="/ui/?range=day"${range === 'day' ? html` aria-current="page"` : ''}>day</a> · <a href="/ui/?range=week"${range === 'week' ? html` aria-current="page"` : ''}>week</a> (${since.toISOString()} to ${until.toISOString()})</p></nav>
${activity(overview, range, since, until)}
<section aria-labelledby="validators-heading">
<h2 id="validators-heading">Refusals by validator</h2>
${overview.refusalsByValidator.length === 0
  ? html`<p>No refusals.</p>`
  : html`<table><thead><tr><th scope="col">Validator</th><th scope="col">Refusals</th></tr></thead><tbody>${overview.refusalsByValidator.map(
      (row) => html`<tr><td><a href="/ui/search?validator=${encodeURIComponent(row.validator)}&amp;since=${range === 'day' ? '24h' : '7d'}">${row.validator}</a></td><td>${row.count}</td></tr>`,
    )}</tbody></table>`}
</section>
<section aria-labelledby="requesters-heading">
<h2 id="requesters-heading">Top requesters</h2>
${overview.topRequesters.length === 0
  ? html`<p>No requests.</p>`
  : html`<table><thead><tr><th scope="col">Requester</th><th scope="col">Issued</th><th scope="col">Refused</th></tr></thead><tbody>${overview.topRequesters.map(
      (row) => html`<tr><td><a href="/ui/search?user=${encodeURIComponent(row.user)}&amp;since=${range === 'day' ? '24h' : '7d'}">${row.user}</a></td><td>${row.issued}</td><td>${row.refused}</td></tr>`,
    )}</tbody></table>`}
</section>
<section aria-labelledby="expiring-heading">
<h2 id="expiring-heading">Certificates expiring in the next ${EXPIRING_WINDOW_MS / 3_600_000} hours</h2>
${overview.expiringSoon.length === 0
  ? html`<p>None.</p>`
  : html`<table><thead><tr><th scope="col">Registration authority</th><th scope="col">Certificates</th><th scope="col">First to expire</th></tr></thead><tbody>${overview.expiringSoon.map(
      (row) => html`<tr><td>${row.ra}</td><td>${row.count}</td><td>${row.next ?? ''}</td></tr>`,
    )}</tbody></table>`}
</section>
${ledger}`;
  response.type('html').send(page({ title: 'Overview', session: sessionOf(response), section: 'overview', scripts: ['uPlot.iife.min.js', 'chart.js'], stylesheets: ['uPlot.min.css'] }, content));
}

/** Issued and refused per hour and RA: a chart drawn by chart.js from the same numbers as the table beneath it. */
function activity(overview: AuditOverview, range: Range, since: Date, until: Date): Html {
  const ras = [...new Set(overview.hourly.map((row) => row.ra))].sort();
  const totals = ras.map((ra) => overview.hourly.filter((row) => row.ra === ra).reduce((sum, row) => ({ issued: sum.issued + row.issued, refused: sum.refused + row.refused }), { issued: 0, refused: 0 }));
  return html`<section aria-labelledby="activity-heading">
<h2 id="activity-heading">Issued and refused per hour</h2>
${ras.length === 0
  ? html`<p>No decisions in this range.</p>`
  : html`<div class="chart" id="activity-chart" data-hourly="${JSON.stringify(overview.hourly)}" data-since="${since.toISOString()}" data-until="${until.toISOString()}" role="img" aria-label="Issued and refused per hour and registration authority; the same numbers are in the table below"></div>
<table><caption>Totals over the last ${range}</caption><thead><tr><th scope="col">Registration authority</th><th scope="col">Issued</th><th scope="col">Refused</th></tr></thead><tbody>${ras.map(
      (ra, index) => html`<tr><td>${ra}</td><td>${totals[index].issued}</td><td>${totals[index].refused}</td></tr>`,
    )}</tbody></table>
<details><summary>Per hour</summary>
<table><thead><tr><th scope="col">Hour (UTC)</th><th scope="col">Registration authority</th><th scope="col">Issued</th><th scope="col">Refused</th></tr></thead><tbody>${overview.hourly.map(
      (row) => html`<tr><td>${row.hour}</td><td>${row.ra}</td><td>${row.issued}</td><td>${row.refused}</td></tr>`,
    )}</tbody></table>
</details>`}
</section>`;
}

/** Each chain's last checkpoint and the records written after it (not yet under a checkpoint). */
async function ledgerState(reader: AuditReader, lastVerify: VerifyResult | undefined): Promise<Html> {
  const chains = await reader.chains();
  const rows = await Promise.all(
    chains.map(async (chain) => {
      const checkpoints = await reader.checkpoints(chain);
      const last = checkpoints[checkpoints.length - 1];
      const after = await reader.walkPage(chain, last?.seq ?? 0, UNSEALED_COUNT_LIMIT + 1);
      const unsealed = after.length > UNSEALED_COUNT_LIMIT ? `more than ${UNSEALED_COUNT_LIMIT}` : String(after.length);
      return html`<tr><td>${chain}</td><td>${last ? `record ${last.seq} at ${last.time}` : 'none yet'}</td><td>${unsealed}</td></tr>`;
    }),
  );
  return html`<section aria-labelledby="ledger-heading">
<h2 id="ledger-heading">Ledger</h2>
${chains.length === 0
  ? html`<p>The ledger is empty.</p>`
  : html`<table><thead><tr><th scope="col">Chain (one per writing process)</th><th scope="col">Last checkpoint</th><th scope="col">Records after it (unsealed)</th></tr></thead><tbody>${rows}</tbody></table>`}
${verifyVerdict(lastVerify)}
</section>`;
}

/** The last `mayfly audit verify` on this host, as that command recorded it. */
function verifyVerdict(result: VerifyResult | undefined): Html {
  if (result === undefined) return html`<p>Last full check: none recorded on this host. Run <code>mayfly audit verify</code> (with <code>--checkpoint FILE</code> to check against a published checkpoint).</p>`;
  const scope = html`${result.chains} chain(s)${result.witnessed ? ', against an exported checkpoint' : ''}`;
  return result.ok
    ? html`<p>Last full check (<code>mayfly audit verify</code>, ${result.time}): <strong>OK</strong>, ${scope}; ${result.unsealed} record(s) not yet under a checkpoint then.</p>`
    : html`<p>Last full check (<code>mayfly audit verify</code>, ${result.time}): <strong>TAMPERED</strong>, ${scope}: ${result.problem ?? ''}</p>`;
}
