// HTML for the console, written only through the `html` tag: everything interpolated is escaped unless
// it is itself HTML made by the tag, so no user input (a CN, a reason, a query) can become markup.

/** Markup made by `html`, safe to interpolate as is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Interpolated = Html | string | number | boolean | null | undefined | readonly Interpolated[];

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an element's content or a quoted attribute value. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (character) => ESCAPES[character]);

function render(value: Interpolated): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** A tagged template: html`<td>${cn}</td>` escapes `cn`; arrays are joined; null, undefined and false are nothing. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): Html {
  let text = strings[0];
  values.forEach((value, index) => (text += render(value) + strings[index + 1]));
  return new Html(text);
}

/** A query string for a link, each part percent-encoded (then escaped as an attribute by `html`). */
export const queryString = (params: Readonly<Record<string, string | undefined>>): string => {
  const defined = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '');
  return defined.length === 0 ? '' : `?${new URLSearchParams(defined).toString()}`;
};
