import { html, type Html } from './html';

/** Every validator's verdict and its reasons, as a record keeps them and a dry run gives them. */
export function verdictTable(verdicts: readonly { readonly validator: string; readonly reasons: readonly string[] }[]): Html {
  return html`<table class="verdicts">
<thead><tr><th scope="col">Validator</th><th scope="col">Verdict</th><th scope="col">Reasons</th></tr></thead>
<tbody>${verdicts.map((verdict) => {
    const passed = verdict.reasons.length === 0;
    return html`<tr><td>${verdict.validator}</td><td class="${passed ? 'pass' : 'refuse'}">${passed ? 'pass' : 'refused'}</td><td>${passed ? '' : html`<ul>${verdict.reasons.map((reason) => html`<li>${reason}</li>`)}</ul>`}</td></tr>`;
  })}</tbody>
</table>`;
}
