// The order `npm test` runs its files in (test/sequencer.js), and the script that refreshes the
// committed times it orders by (scripts/test_durations.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const jestConfig = require('../../jest.config.js') as { testSequencer: string };
const durations = JSON.parse(readFileSync(join(root, 'test', 'durations.json'), 'utf8')) as Record<string, number>;

interface SequencedTest {
  path: string;
  duration?: number;
  context: { config: { rootDir: string; cache: boolean }; hasteFS: { getSize: (path: string) => number } };
}

/** The sequencer jest.config.js names, as Jest loads it, with no timing cache (a fresh clone). */
function order(files: Record<string, number>): string[] {
    const Sequencer = require(jestConfig.testSequencer.replace('<rootDir>', root)) as new (options: object) => { sort: (tests: SequencedTest[]) => SequencedTest[] };
  const context = { config: { rootDir: root, cache: false }, hasteFS: { getSize: (path: string) => files[path.slice(root.length + 1)] } };
  return new Sequencer({}).sort(Object.keys(files).map((file) => ({ path: join(root, file), context }))).map((test) => test.path.slice(root.length + 1));
}

describe('the order npm test runs its files in', () => {
  const byTime = Object.keys(durations).filter((file) => !file.endsWith('.full.test.ts')).sort((a, b) => durations[b] - durations[a]);
  const longest = byTime[0];
  const quick = byTime.slice(-3);

  it('runs the longest files first by the committed times, not by file size', () => {
    // Sizes inverted: Jest's own order without a cache would put the longest file last.
    const sizes = Object.fromEntries([longest, ...quick].map((file, i) => [file, 1000 * (i + 1)]));
    expect(order(sizes)).toEqual([longest, ...quick.slice().sort((a, b) => durations[b] - durations[a] || sizes[b] - sizes[a])]);
  });

  it('runs a file the list does not know before every known one, and unknown files by size', () => {
    const files = { [quick[0]]: 10, 'test/unit/new_big.test.ts': 500, [longest]: 20, 'test/unit/new_small.test.ts': 5 };
    expect(order(files)).toEqual(['test/unit/new_big.test.ts', 'test/unit/new_small.test.ts', longest, quick[0]]);
  });
});

describe('npm run test:durations', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'mayfly-durations-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes a report's times, from this checkout or another, keeps other files' times and drops files that are gone", () => {
    const [timed, kept] = Object.keys(durations);
    const list = join(dir, 'durations.json');
    writeFileSync(list, JSON.stringify({ 'test/unit/gone.test.ts': 3, [kept]: 4.5, [timed]: 1 }));
    const report = join(dir, 'report.json');
    writeFileSync(
      report,
      JSON.stringify({
        testResults: [
          { name: join('/elsewhere/test/ci-clone/project', timed), startTime: 1000, endTime: 13_460, status: 'passed' },
          // A file that could not run: Jest reports start = end.
          { name: join(root, kept), startTime: 5000, endTime: 5000, status: 'failed' },
        ],
      }),
    );
    const output = execFileSync(process.execPath, [join(root, 'scripts', 'test_durations.mjs'), report, list], { encoding: 'utf8' });
    expect(output).toContain('1 file(s) timed');
    expect(readFileSync(list, 'utf8')).toBe(`${JSON.stringify(Object.fromEntries([[kept, 4.5], [timed, 12.5]].sort()), null, 2)}\n`);
  });

  it('says how to use it when the report is missing, with exit 2', () => {
    const run = spawnSync(process.execPath, [join(root, 'scripts', 'test_durations.mjs')], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('usage: npm run test:durations -- REPORT.json');
  });
});
