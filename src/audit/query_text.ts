import { OUTCOMES } from './outcomes';
import { normalizeSerial } from './serial';
import { sourceRange } from './source';
import type { AuditQuery } from './store';
import { parseTimeBound, TimeBoundError } from './time_range';

// The ledger's filters as a person types them, read the same way by `mayfly audit list/export`,
// GET /v1/audit and the console: each refused with a reason that says what it accepts.

export { OUTCOMES } from './outcomes';

/** A filter's text that is not what the filter takes. */
export class AuditFilterError extends Error {
  override readonly name = 'AuditFilterError';
  constructor(
    readonly filter: string,
    /** What is wrong with the text, without the filter's name. */
    readonly reason: string,
  ) {
    super(`${filter}: ${reason}`);
  }
}

type Reader<T> = (text: string, now: Date) => T;

/** A reader's refusal, before it is given the filter's name. */
class Refusal extends Error {}

const refuse = (reason: string): never => {
  throw new Refusal(reason);
};

const time =
  (edge: 'since' | 'until'): Reader<string> =>
  (text, now) =>
    parseTimeBound(text, now, edge).toISOString();

/** Each filter's reading; a reader throws a Refusal or a TimeBoundError whose message is the reason. */
const READERS = {
  ra: (text) => text,
  since: time('since'),
  until: time('until'),
  name: (text) => text,
  outcome: (text) => (OUTCOMES as readonly string[]).includes(text) ? text : refuse(`${JSON.stringify(text)} is not an outcome: use ${OUTCOMES.join(', ')}`),
  serial: (text) => normalizeSerial(text) ?? refuse(`${JSON.stringify(text)} is not a certificate serial: hex digits, with or without colons (0a:1b:2c:3d or 0A1B2C3D)`),
  user: (text) => text,
  source: (text) => (sourceRange(text) ? text.trim() : refuse(`${JSON.stringify(text)} is not an IP address or CIDR block (192.0.2.7, 10.0.0.0/8, 2001:db8::/32)`)),
  validator: (text) => text,
} satisfies Record<string, Reader<string>>;

export type FilterName = keyof typeof READERS;

/** The filters, by the names the CLI's options and GET /v1/audit's parameters use. */
export const FILTER_NAMES = Object.keys(READERS) as readonly FilterName[];

/** One filter's value from its text; throws AuditFilterError. */
export function readFilter(filter: FilterName, text: string, now: Date): string {
  try {
    return READERS[filter](text, now);
  } catch (error) {
    if (error instanceof TimeBoundError || error instanceof Refusal) throw new AuditFilterError(filter, error.message);
    throw error;
  }
}

/** A query from the filters given as text; throws AuditFilterError naming the first bad one. */
export function auditFilters(texts: Partial<Record<FilterName, string>>, now: Date): AuditQuery {
  const query: Partial<Record<FilterName, string>> = {};
  for (const filter of FILTER_NAMES) {
    const text = texts[filter];
    if (text !== undefined) query[filter] = readFilter(filter, text, now);
  }
  return query;
}
