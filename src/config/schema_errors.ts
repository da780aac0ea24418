import type { z } from 'zod';

// Zod's own messages speak of its types ("expected number, received string"); a person editing
// YAML needs to read what the key takes, with an example, and the key they probably meant.

type Schema = z.core.$ZodType;
type KeyPath = readonly PropertyKey[];

/** Edit distance (insertions, deletions, substitutions) between two short words. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/** The candidate a slip of the keyboard most likely meant: within a third of the word's length. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.candidate : undefined;
}

const defOf = (schema: Schema) => schema._zod.def as unknown as Record<string, unknown> & { type: string };

/** The schema that judges `value`, past defaults, optionals and the branch of a discriminated union. */
function unwrap(schema: Schema, value: unknown): Schema {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType as Schema, value);
  if (def.type === 'pipe') return unwrap(def.in as Schema, value);
  if (def.type === 'union' && typeof def.discriminator === 'string' && typeof value === 'object' && value !== null) {
    const discriminator = def.discriminator;
    const chosen = (def.options as Schema[]).find((option) => {
      const field = (defOf(option).shape as Record<string, Schema> | undefined)?.[discriminator];
      return field !== undefined && (field as z.ZodType).safeParse((value as Record<string, unknown>)[discriminator]).success;
    });
    if (chosen) return unwrap(chosen, value);
  }
  return schema;
}

/** The keys the map at `path` may hold, for a suggestion; none when the schema there is not a fixed map. */
export function knownKeys(root: Schema, path: KeyPath, data: unknown): readonly string[] {
  let schema = unwrap(root, data);
  let value = data;
  for (const part of path) {
    value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[part] : undefined;
    const def = defOf(schema);
    const next = def.type === 'object' ? (def.shape as Record<string, Schema>)[String(part)] : def.type === 'record' ? (def.valueType as Schema) : def.type === 'array' ? (def.element as Schema) : undefined;
    if (!next) return [];
    schema = unwrap(next, value);
  }
  const def = defOf(schema);
  return def.type === 'object' ? Object.keys(def.shape as Record<string, Schema>) : [];
}

/** What a key of each type takes, in words, with an example to copy. */
const EXPECTED: Readonly<Record<string, string>> = {
  number: 'a number, e.g. 24',
  int: 'a whole number, e.g. 24',
  boolean: 'true or false',
  string: 'a text value, e.g. example.com (quotes are optional)',
  array: 'a list: one item a line, each starting with "- ", or [a, b] on one line',
  object: 'a map: keys indented on the lines below it, e.g. "listen: 127.0.0.1:5016"',
  record: 'a map of named entries: each name indented on the lines below it, followed by ":"',
};

/** The YAML value as a person wrote it, e.g. the text "24", a list, nothing. */
function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${String(value)}`;
}

const quoteAll = (values: readonly unknown[]) => values.map((value) => String(value)).join(', ');

/** Zod's own wording; a message a schema wrote itself (`.min(2048, 'RSA below …')`) is kept as it is. */
const ZOD_WORDING = /^(Invalid input|Invalid option|Too small|Too big|Invalid discriminator value)/;

/** A zod issue as a sentence saying what the key expects; `value` is what the YAML holds there. */
export function issueText(issue: z.core.$ZodIssue, value: unknown): string {
  if (!ZOD_WORDING.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return value === undefined ? `this key is required: give ${expected}` : `expected ${expected}; found ${describeValue(value)}`;
    }
    case 'invalid_value': {
      const suggestion = typeof value === 'string' ? nearest(value, issue.values.map(String)) : undefined;
      return `expected one of ${quoteAll(issue.values)}; found ${describeValue(value)}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`;
    }
    case 'too_small':
    case 'too_big': {
      const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const bound = issue.code === 'too_small' ? (issue.inclusive ? 'at least' : 'more than') : issue.inclusive ? 'at most' : 'less than';
      if (issue.origin === 'array') return `needs ${bound} ${String(limit)} item(s)`;
      if (issue.origin === 'string') return `needs ${bound} ${String(limit)} character(s)`;
      return `must be ${bound} ${String(limit)}; found ${describeValue(value)}`;
    }
    case 'invalid_union': {
      // A discriminated union (`backend:`) whose value matches no branch.
      const options = 'options' in issue && Array.isArray(issue.options) ? (issue.options as unknown[]) : undefined;
      if (!options) return issue.message;
      const suggestion = typeof value === 'string' ? nearest(value, options.map(String)) : undefined;
      return `expected one of ${quoteAll(options)}; found ${describeValue(value)}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`;
    }
    default:
      return issue.message;
  }
}
