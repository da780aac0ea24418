import type { Request, Response } from 'express';
import type { Runtime } from '../../config/assemble';
import { CsrParseError } from '../../csr/errors';
import { dryRun, type DryRun } from '../../ra/dry_run';
import { HttpError } from '../errors';
import { html, type Html } from './html';
import { page } from './layout';
import { verdictTable } from './verdicts';
import { sessionOf } from './login';

interface DryRunForm {
  readonly ra: string;
  readonly csr: string;
  readonly user: string;
  readonly groups: string;
  readonly source: string;
}

const MAX_CSR_CHARS = 64 * 1024;

/** GET /ui/dry-run: the form, the requester being the one signed in, from where they are. */
export function showDryRun(runtime: Runtime, request: Request, response: Response): void {
  const requester = sessionOf(response).requester;
  const form = { ra: '', csr: '', user: requester.user, groups: requester.groups.join(', '), source: request.ip ?? '' };
  response.type('html').send(dryRunPage(runtime, response, form));
}

/** POST /ui/dry-run: what `mayfly policy test` does: every validator's verdict; nothing signed, nothing recorded. */
export function submitDryRun(runtime: Runtime, request: Request, response: Response): void {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const field = (name: keyof DryRunForm): string => (typeof body[name] === 'string' ? (body[name] as string) : '');
  const form: DryRunForm = { ra: field('ra'), csr: field('csr'), user: field('user'), groups: field('groups'), source: field('source') };
  const ra = runtime.registrationAuthorities.get(form.ra);
  if (!ra) throw new HttpError(400, 'unknown_ra', 'pick a registration authority');
  if (form.csr.length > MAX_CSR_CHARS) throw new HttpError(413, 'body_too_large', 'the CSR is over the size limit');
  let result: DryRun | string;
  try {
    result = dryRun(ra, {
      csr: form.csr,
      requester: { user: form.user, groups: form.groups.split(',').map((group) => group.trim()).filter(Boolean), authentication: '(console dry run)' },
      source: form.source,
    });
  } catch (error) {
    if (!(error instanceof CsrParseError)) throw error;
    result = error.message;
  }
  response.status(typeof result === 'string' ? 400 : 200).type('html').send(dryRunPage(runtime, response, form, result));
}

function dryRunPage(runtime: Runtime, response: Response, form: DryRunForm, result?: DryRun | string): string {
  const input = (name: keyof DryRunForm, label: string) => html`<div class="field"><label for="${name}">${label}</label> <input id="${name}" name="${name}" value="${form[name]}"></div>`;
  return page(
    { title: 'Policy dry run', session: sessionOf(response), section: 'dry-run' },
    html`<p>Runs a registration authority's validators on a CSR, as a request would meet them. Nothing is signed or recorded.</p>
<form method="post" action="/ui/dry-run" class="dry-run">
<div class="field"><label for="ra">Registration authority</label> <select id="ra" name="ra" required>${[...runtime.registrationAuthorities.keys()].map(
      (name) => html`<option${name === form.ra ? html` selected` : ''}>${name}</option>`,
    )}</select></div>
<div class="field"><label for="csr">CSR (PEM)</label> <textarea id="csr" name="csr" rows="12" cols="66" required spellcheck="false">${form.csr}</textarea></div>
${input('user', 'As requester')}
${input('groups', 'With groups (comma-separated)')}
${input('source', 'From address')}
<button type="submit">Run the validators</button>
</form>
${result === undefined ? '' : typeof result === 'string' ? html`<p class="error" role="alert">The CSR cannot be read: ${result}</p>` : resultSection(result)}`,
  );
}

function resultSection(result: DryRun): Html {
  const certificate = result.certificate;
  return html`<section aria-labelledby="result-heading" id="dry-run-result" data-result="${result.passed ? 'pass' : 'refused'}">
<h2 id="result-heading">Result: ${result.passed ? 'pass' : 'refused'}</h2>
${verdictTable(result.verdicts)}
${result.passed
  ? html`<h3>The certificate would be</h3>
<table class="fields">
<tr><th scope="row">Subject</th><td>${certificate.subject || '(empty)'}</td></tr>
<tr><th scope="row">DNS names</th><td>${certificate.dnsNames.join(', ')}</td></tr>
<tr><th scope="row">IP addresses</th><td>${certificate.ipAddresses.join(', ')}</td></tr>
<tr><th scope="row">Valid from</th><td>${certificate.notBefore.toISOString()}</td></tr>
<tr><th scope="row">Valid until</th><td>${certificate.notAfter.toISOString()}</td></tr>
</table>`
  : ''}
</section>`;
}
