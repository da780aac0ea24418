import { formatDuration } from '../../../src/client/clock';

describe('formatDuration', () => {
  it.each([
    [450, '450ms'],
    [999.9, '999ms'],
    [1000, '1s'],
    [1999, '1s'],
    [150_000, '2m30s'],
    [3_600_000, '1h'],
    [90_061_000, '1d1h1m1s'],
    [-2_500, '-2s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('never rounds a remaining time up to the next unit: 23h59m59.6s is not "1d"', () => {
    // `agent status` right after a 24-hour certificate was issued in the first half of a second.
    expect(formatDuration(86_399_600)).toBe('23h59m59s');
  });
});
