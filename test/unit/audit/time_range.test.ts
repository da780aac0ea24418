import { parseTimeBound, TimeBoundError } from '../../../src/audit/time_range';

const now = new Date('2026-12-06T05:30:00.000Z');
const iso = (text: string, edge: 'since' | 'until' = 'since') => parseTimeBound(text, now, edge).toISOString();

describe('parseTimeBound', () => {
  it('reads RFC 3339 times with their offset as the instant they name', () => {
    expect(iso('2026-11-23T10:00:00Z')).toBe('2026-11-23T10:00:00.000Z');
    expect(iso('2026-11-23T10:00:00.5+05:30', 'until')).toBe('2026-11-23T04:30:00.500Z');
  });

  it('reads a date as the whole UTC day: its start as since, the next day as until', () => {
    expect(iso('2026-11-23', 'since')).toBe('2026-11-23T00:00:00.000Z');
    expect(iso('2026-11-23', 'until')).toBe('2026-11-24T00:00:00.000Z');
  });

  it('reads durations as that long before now', () => {
    expect(iso('24h')).toBe('2026-12-05T05:30:00.000Z');
    expect(iso('7d', 'until')).toBe('2026-11-29T05:30:00.000Z');
    expect(iso('30m')).toBe('2026-12-06T05:00:00.000Z');
    expect(iso('2w')).toBe('2026-11-22T05:30:00.000Z');
  });

  it('reads today, yesterday and now as UTC days and this instant', () => {
    expect(iso('today')).toBe('2026-12-06T00:00:00.000Z');
    expect(iso('today', 'until')).toBe('2026-12-07T00:00:00.000Z');
    expect(iso('yesterday')).toBe('2026-12-05T00:00:00.000Z');
    expect(iso('yesterday', 'until')).toBe('2026-12-06T00:00:00.000Z');
    expect(iso('now', 'until')).toBe('2026-12-06T05:30:00.000Z');
  });

  it.each([
    ['06/12/2026', 'a day-month or month-day date (Date.parse read it as 12 June)'],
    ['12/06/2026', 'the other order'],
    ['Jan 1 2020', 'a free-form date'],
    ['2020-01-01T00:00:00', 'a time without its offset'],
    ['2020-02-30', 'a day that does not exist'],
    ['99999-01-01', 'a five-digit year'],
    ['9999-12-31T23:00:00-02:00', 'a time past 9999 in UTC'],
    ['1577836800', 'a number'],
    ['24', 'a duration without its unit'],
    ['24 hours', 'a duration in words'],
    ['-1d', 'a negative duration'],
    ['Yesterday', 'a word in another case'],
    ['', 'nothing'],
  ])('refuses %s (%s), saying what is accepted', (text) => {
    expect(() => parseTimeBound(text, now, 'since')).toThrow(TimeBoundError);
    expect(() => parseTimeBound(text, now, 'since')).toThrow(`${JSON.stringify(text)} is not an RFC 3339 date (2026-01-31) or time with offset (2026-01-31T12:00:00Z) within the years 0000-9999, a duration ago (30m, 24h, 7d), today, yesterday or now`);
  });

  it('refuses 9999-12-31 as an until: its end is past the years records sort in', () => {
    expect(iso('9999-12-31', 'since')).toBe('9999-12-31T00:00:00.000Z');
    expect(() => parseTimeBound('9999-12-31', now, 'until')).toThrow(TimeBoundError);
  });
});
