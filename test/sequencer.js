// Jest's order for a run's files: the longest first, by the times committed in test/durations.json.
// Two workers take files from one queue, so a long file started last keeps one worker busy while the
// other stands idle. Jest orders by its own timing cache, but a fresh clone (CI) has none, and then
// it orders by file size, which put the heavy small files (interop, the client package, key fuzz)
// last. A file the list does not know yet counts as the longest: a new slow file cannot end a run
// alone, and it shows up at the start, where it is cheap. Files that failed in this checkout's last
// run still go first (Jest's cache), for quick feedback. Refreshing the list: test/README.md.
const { existsSync, readFileSync } = require('node:fs');
const { join, relative, sep } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const DURATIONS = join(__dirname, 'durations.json');

class LongestFirst extends Sequencer {
  constructor(options) {
    super(options);
    /** Seconds per file, by its path from the repository root with forward slashes. */
    this.seconds = existsSync(DURATIONS) ? JSON.parse(readFileSync(DURATIONS, 'utf8')) : {};
  }

  sort(tests) {
    const seconds = (test) => this.seconds[relative(test.context.config.rootDir, test.path).split(sep).join('/')] ?? Infinity;
    const size = (test) => test.context.hasteFS.getSize(test.path) ?? 0;
    for (const test of tests) {
      const known = seconds(test);
      // Jest also reads this: a handful of files it knows to be quick run in its own process.
      test.duration = Number.isFinite(known) ? known * 1000 : undefined;
    }
    return [...tests].sort((a, b) => Number(this.hasFailed(b)) - Number(this.hasFailed(a)) || seconds(b) - seconds(a) || size(b) - size(a) || (a.path < b.path ? -1 : 1));
  }
}

module.exports = LongestFirst;
