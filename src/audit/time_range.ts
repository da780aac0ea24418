import { z } from 'zod';

// The one reading of a time a person types, for `mayfly audit list/export`, GET /v1/audit and the
// console: RFC 3339 or words with one meaning. Date.parse read 06/12/2026 as 12 June (a US
// month-first guess) and took much else; here anything not listed below is refused, saying what is.

export type TimeEdge = 'since' | 'until';

/** What parseTimeBound accepts, in words, for the messages that refuse something else. */
export const ACCEPTED_TIMES =
  'an RFC 3339 date (2026-01-31) or time with offset (2026-01-31T12:00:00Z) within the years 0000-9999, a duration ago (30m, 24h, 7d), today, yesterday or now';

/** Text that is not a time parseTimeBound accepts. */
export class TimeBoundError extends Error {
  override readonly name = 'TimeBoundError';
  constructor(readonly text: string) {
    super(`${JSON.stringify(text)} is not ${ACCEPTED_TIMES}`);
  }
}

/** RFC 3339 5.6: a full-date, or a date-time with its offset. */
const RFC3339_DATE = z.iso.date();
const RFC3339_TIME = z.iso.datetime({ offset: true });
const DURATION = /^(\d{1,6})(m|h|d|w)$/;
const MINUTES: Readonly<Record<string, number>> = { m: 1, h: 60, d: 1440, w: 10_080 };
const DAY = 86_400_000;

/** The start of the UTC day `offset` days from `now`'s. */
const utcDay = (now: Date, offset: number): Date => new Date(Math.floor(now.getTime() / DAY) * DAY + offset * DAY);

/**
 * A bound of a time range: `since` is inclusive, `until` exclusive. A whole day (a date, `today`,
 * `yesterday`) starts at its UTC midnight as a `since` and ends at the next as an `until`, so
 * `--since yesterday --until yesterday` is yesterday; a duration (`24h`) is that long before `now`.
 * Throws TimeBoundError for anything else (06/12/2026, a time without its offset, a five-digit year).
 */
export function parseTimeBound(text: string, now: Date, edge: TimeEdge): Date {
  const trimmed = text.trim();
  const dayEnd = edge === 'until' ? 1 : 0;
  const duration = DURATION.exec(trimmed);
  let time: Date;
  if (duration) time = new Date(now.getTime() - Number(duration[1]) * MINUTES[duration[2]] * 60_000);
  else if (trimmed === 'now') time = now;
  else if (trimmed === 'today') time = utcDay(now, dayEnd);
  else if (trimmed === 'yesterday') time = utcDay(now, dayEnd - 1);
  else if (RFC3339_DATE.safeParse(trimmed).success) time = new Date(Date.parse(trimmed) + dayEnd * DAY);
  else if (RFC3339_TIME.safeParse(trimmed).success) time = new Date(Date.parse(trimmed));
  else throw new TimeBoundError(text);
  // Records' times compare as ISO 8601 text, which sorts only within the years 0000-9999.
  if (Number.isNaN(time.getTime()) || !/^\d{4}-/.test(time.toISOString())) throw new TimeBoundError(text);
  return time;
}
