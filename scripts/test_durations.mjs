// Refreshes test/durations.json, the per-file times test/sequencer.js orders a run by, from the report
// `jest --json --outputFile=FILE` wrote: `npm run test:durations -- FILE` (test/README.md), or into
// another list given second. Files the report ran get its times; files it did not run keep theirs;
// files that no longer exist are dropped.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [report, durations = join(root, 'test', 'durations.json')] = process.argv.slice(2);
if (!report) {
  console.error('usage: npm run test:durations -- REPORT.json   (from: npx jest --json --outputFile=REPORT.json)');
  process.exit(2);
}

/** `name` from the report as a path in this checkout; the report may come from another (CI's fresh clone). */
function inThisCheckout(name) {
  const inside = relative(root, name).split(sep).join('/');
  if (!inside.startsWith('../')) return inside;
  const parts = name.split(sep);
  for (let i = parts.indexOf('test'); i >= 0; i = parts.indexOf('test', i + 1)) {
    const candidate = parts.slice(i).join('/');
    if (existsSync(join(root, candidate))) return candidate;
  }
  return undefined;
}

const { testResults } = JSON.parse(readFileSync(report, 'utf8'));
const seconds = existsSync(durations) ? JSON.parse(readFileSync(durations, 'utf8')) : {};
let updated = 0;
for (const { name, startTime, endTime } of testResults) {
  // A file that could not run reports no time (start = end): keep what the list had.
  if (!(endTime > startTime)) continue;
  const file = inThisCheckout(name);
  if (file === undefined) continue;
  seconds[file] = Math.round((endTime - startTime) / 100) / 10;
  updated++;
}
for (const file of Object.keys(seconds)) if (!existsSync(join(root, file))) delete seconds[file];

const sorted = Object.fromEntries(Object.keys(seconds).sort().map((file) => [file, seconds[file]]));
writeFileSync(durations, `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`${relative(root, durations)}: ${updated} file(s) timed from ${report}, ${Object.keys(sorted).length} in all`);
