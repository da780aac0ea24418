import type { RecordColumns } from './record';

// The console's overview over a week counted a million records each time it was asked (2.9 s on
// SQLite). Schema version 4 keeps per-hour counts beside the records, added to in the append's own
// transaction, so a range's whole hours are read from a few thousand counts and only its partial first
// and last hours from the records: the answer stays exact at any bound. The counts are derived from
// hashed records and could be edited like any index, so `audit verify` recounts them (hourDifference).

/** The hour a record's time falls in, as SQL over its `time` column: its ISO start. */
const HOUR_OF_TIME = `substr(time, 1, 13) || ':00:00.000Z'`;

export interface HourRollup {
  readonly table: string;
  /** What each count is kept per, beside the hour: columns of `from`. */
  readonly keys: readonly string[];
  readonly from: 'records' | 'record_refusals';
  /** Which rows of `from` are counted. */
  readonly where: string;
  /** A record's key values, one list per row it adds to `from`. */
  readonly of: (columns: RecordColumns) => readonly (readonly string[])[];
}

/** Per hour: records by RA and outcome. */
export const RA_HOURS: HourRollup = { table: 'ra_hours', keys: ['ra', 'outcome'], from: 'records', where: 'true', of: (c) => [[c.ra, c.outcome]] };
/** Per hour: a requester's records by outcome. */
export const REQUESTER_HOURS: HourRollup = { table: 'requester_hours', keys: ['user_name', 'outcome'], from: 'records', where: 'user_name IS NOT NULL', of: (c) => (c.user === null ? [] : [[c.user, c.outcome]]) };
/** Per hour: refusals by validator. */
export const REFUSAL_HOURS: HourRollup = { table: 'refusal_hours', keys: ['validator'], from: 'record_refusals', where: 'true', of: (c) => c.refusedBy.map((validator) => [validator]) };
export const HOUR_ROLLUPS: readonly HourRollup[] = [RA_HOURS, REQUESTER_HOURS, REFUSAL_HOURS];

/** Version 4's tables; `text` is the store's type for the key columns. */
export const hourRollupSchema = (text: string): string =>
  HOUR_ROLLUPS.map(
    ({ table, keys }) => `CREATE TABLE ${table} (hour ${text} NOT NULL, ${keys.map((key) => `${key} ${text} NOT NULL`).join(', ')}, count INTEGER NOT NULL, PRIMARY KEY (hour, ${keys.join(', ')}));`,
  ).join('\n');

/** What the records say each rollup's counts are. */
const counted = ({ keys, from, where }: HourRollup): string => `SELECT ${HOUR_OF_TIME} AS hour, ${keys.join(', ')}, count(*) AS count FROM ${from} WHERE ${where} GROUP BY 1, ${keys.join(', ')}`;

/** Fills version 4's tables from the records already there. */
export const hourRollupBackfill = (): string[] => HOUR_ROLLUPS.map((rollup) => `INSERT INTO ${rollup.table} (hour, ${rollup.keys.join(', ')}, count) ${counted(rollup)}`);

/** One row that a rollup holds and the records do not say, or the other way round; none when they agree. */
export const hourDifference = (rollup: HourRollup): string => {
  const held = `SELECT hour, ${rollup.keys.join(', ')}, count FROM ${rollup.table}`;
  return `SELECT hour FROM (${held} EXCEPT ${counted(rollup)}) AS extra UNION ALL SELECT hour FROM (${counted(rollup)} EXCEPT ${held}) AS missing LIMIT 1`;
};

/** A batch's counts per rollup, each row [hour, ...keys, count], sorted so concurrent writers lock rows in one order. */
export function hourCounts(batch: readonly { readonly columns: RecordColumns }[]): { readonly rollup: HourRollup; readonly rows: readonly (readonly [string, ...string[], number])[] }[] {
  return HOUR_ROLLUPS.map((rollup) => {
    const counts = new Map<string, number>();
    for (const { columns } of batch) {
      const hour = `${columns.time.slice(0, 13)}:00:00.000Z`;
      for (const values of rollup.of(columns)) {
        const key = JSON.stringify([hour, ...values]);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const rows = [...counts.keys()].sort().map((key) => [...(JSON.parse(key) as string[]), counts.get(key)] as [string, ...string[], number]);
    return { rollup, rows };
  });
}

/** Adds a batch's counts to a rollup's: the statement's VALUES or SELECT supplies (hour, ...keys, count). */
export const upsertHours = ({ table, keys }: HourRollup, rows: string): string =>
  `INSERT INTO ${table} (hour, ${keys.join(', ')}, count) ${rows} ON CONFLICT (hour, ${keys.join(', ')}) DO UPDATE SET count = ${table}.count + excluded.count`;

/**
 * A range split for the rollups: [since, wholeFrom) and [wholeTo, until) are counted from the records,
 * the whole hours [wholeFrom, wholeTo) from the rollups. A range within one or two hours has none.
 */
export function hourSpans(range: { readonly since: string; readonly until: string }): { since: string; wholeFrom: string; wholeTo: string; until: string } {
  const HOUR = 3_600_000;
  const from = Math.ceil(Date.parse(range.since) / HOUR) * HOUR;
  const to = Math.floor(Date.parse(range.until) / HOUR) * HOUR;
  if (!(from < to)) return { since: range.since, wholeFrom: range.until, wholeTo: range.until, until: range.until };
  return { since: range.since, wholeFrom: new Date(from).toISOString(), wholeTo: new Date(to).toISOString(), until: range.until };
}

/**
 * A rollup's counts over a range (hour, ...keys, count): the whole hours' from the rollup, the partial
 * hours' from the records. `param` names the store's placeholder for a field of hourSpans.
 */
export function countsOver({ table, keys, from, where }: HourRollup, param: (name: keyof ReturnType<typeof hourSpans>) => string): string {
  const records = (low: 'since' | 'wholeTo', high: 'wholeFrom' | 'until') =>
    `SELECT ${HOUR_OF_TIME} AS hour, ${keys.join(', ')}, 1 AS count FROM ${from} WHERE ${where} AND time >= ${param(low)} AND time < ${param(high)}`;
  return `SELECT hour, ${keys.join(', ')}, count FROM ${table} WHERE hour >= ${param('wholeFrom')} AND hour < ${param('wholeTo')}
    UNION ALL ${records('since', 'wholeFrom')} UNION ALL ${records('wholeTo', 'until')}`;
}
