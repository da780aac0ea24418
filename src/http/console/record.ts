import { X509Certificate } from 'node:crypto';
import type { Request, Response } from 'express';
import { recordReasons } from '../../audit/export';
import type { AuditEvent } from '../../audit/record';
import type { AuditReader } from '../../audit/store';
import { HttpError } from '../errors';
import { html, type Html } from './html';
import { page } from './layout';
import { verdictTable } from './verdicts';
import { sessionOf } from './login';
import { recordNames } from './search';

/** GET /ui/record/:chain/:seq: one decision in full, its certificate decoded, its inclusion proof checked in the page. */
export async function showRecord(reader: AuditReader, request: Request, response: Response): Promise<void> {
  const chain = String(request.params.chain);
  const seq = Number(request.params.seq);
  const record = Number.isSafeInteger(seq) && seq > 0 ? await reader.record(chain, seq) : undefined;
  if (!record) throw new HttpError(404, 'not_found', 'no such record');
  const event = JSON.parse(record.body) as AuditEvent;
  const row = (label: string, value: Html | string | undefined) => (value === undefined || value === '' ? '' : html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`);
  const content = html`<section aria-labelledby="decision-heading">
<h2 id="decision-heading">Decision</h2>
<table class="fields">
${row('Time (UTC)', event.time)}
${row('Outcome', event.outcome)}
${row('Registration authority', event.ra)}
${row('Protocol', event.protocol)}
${row('Requester', event.requester ? `${event.requester.user} (groups: ${event.requester.groups.join(', ') || 'none'}; authenticated by ${event.requester.authentication})` : undefined)}
${row('Claimed user (authentication failed)', event.claimed_user)}
${row('Source address', event.source)}
${row('Subject', event.subject)}
${row('Subject requested', event.requested_subject)}
${row('Names', recordNames(event).join(', '))}
${row('CSR SHA-256', event.csr_sha256)}
${row('Reason', event.reason)}
${row('Ledger position', `chain ${record.chain}, record ${record.seq}, hash ${record.hash}`)}
</table>
</section>
${verdictSection(event)}
${event.certificate ? certificateSection(event) : ''}
${event.certificate ? proofSection(event.certificate.serial, record.body) : ''}`;
  response.type('html').send(page({ title: `Record ${record.chain}:${record.seq}`, session: sessionOf(response), section: 'search', scripts: event.certificate ? ['proof.js'] : [] }, content));
}

function verdictSection(event: AuditEvent): Html {
  const verdicts = event.verdicts ?? [];
  if (verdicts.length === 0) return html`<p>No validator ran on this request${recordReasons(event).length > 0 ? ' (it was refused before policy)' : ''}.</p>`;
  return html`<section aria-labelledby="verdicts-heading">
<h2 id="verdicts-heading">Validators</h2>
${verdictTable(verdicts)}
</section>`;
}

function certificateSection(event: AuditEvent): Html {
  const issued = event.certificate!;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(issued.der, 'base64'));
  } catch {
    return html`<p class="error">The certificate in this record does not decode.</p>`;
  }
  const key = event.public_key;
  return html`<section aria-labelledby="certificate-heading">
<h2 id="certificate-heading">Certificate</h2>
<table class="fields">
<tr><th scope="row">Subject</th><td>${certificate.subject.replace(/\n/g, ', ')}</td></tr>
<tr><th scope="row">Subject alternative names</th><td>${certificate.subjectAltName ?? ''}</td></tr>
<tr><th scope="row">Issuer</th><td>${certificate.issuer.replace(/\n/g, ', ')}</td></tr>
<tr><th scope="row">Serial</th><td class="serial">${issued.serial}</td></tr>
<tr><th scope="row">Valid from</th><td>${issued.not_before}</td></tr>
<tr><th scope="row">Valid until</th><td>${issued.not_after}</td></tr>
<tr><th scope="row">Public key</th><td>${key ? `${key.type}${key.curve ? ` ${key.curve}` : ''}${key.bits ? ` ${key.bits} bits` : ''}, SPKI SHA-256 ${key.spki_sha256}` : ''}</td></tr>
<tr><th scope="row">SHA-256 fingerprint</th><td>${issued.sha256}</td></tr>
</table>
</section>`;
}

/**
 * The proof is checked by the page's script (proof.js) against the latest signed checkpoint, with
 * nothing but the record as shown here, its proof and the checkpoint: the server's word is not needed.
 */
function proofSection(serial: string, body: string): Html {
  return html`<section aria-labelledby="proof-heading" id="proof" data-serial="${serial}">
<h2 id="proof-heading">Inclusion in the ledger</h2>
<p id="proof-status" role="status" data-state="unchecked">Checking the inclusion proof needs JavaScript; the proof is also served at /v1/audit/proof/${serial}.</p>
<details>
<summary>The record as stored (the proof's leaf)</summary>
<pre id="record-body">${body}</pre>
</details>
</section>`;
}
