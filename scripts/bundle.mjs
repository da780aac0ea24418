// The second half of `npm run build`: the compiled `mayfly` command (dist/src/cli/main.js, from tsc)
// bundled with everything it imports into one file, dist/server/mayfly.js, which bin/mayfly runs;
// beside it the ledger's worker threads, each a file of its own (src/audit/worker_script.ts looks
// beside the running code first). Node then reads and compiles one file where it resolved and read
// ~900: `mayfly serve` starts on about a quarter less CPU, and so does every command that loads the
// server's stages (test/README.md). Commands still load their code when they run: the bundle keeps
// each module's `require` where it was, so `mayfly --help` evaluates no server stage.
//
// Left outside, loaded from node_modules as before: the native modules (Mayfly's own too), pino (it starts its
// pretty-printing transport on a TTY from worker files it finds by path) and uPlot (the console
// serves its files, found with require.resolve).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'src');
const out = join(root, 'dist', 'server');
const EXTERNAL = ['better-sqlite3', 'mayfly-native', 'pkcs11js', 'pg-native', 'pino', 'uplot'];

const common = { bundle: true, platform: 'node', target: 'node24', format: 'cjs', external: EXTERNAL, logLevel: 'warning', absWorkingDir: root };

/** The worker threads the compiled code starts: every `workerScript('name')` in dist/src/audit. */
function workerNames() {
  const names = new Set();
  for (const file of readdirSync(join(compiled, 'audit')).filter((name) => name.endsWith('.js'))) {
    for (const [, name] of readFileSync(join(compiled, 'audit', file), 'utf8').matchAll(/workerScript\)?\(['"](\w+)['"]\)/g)) names.add(name);
  }
  if (names.size === 0) throw new Error('bundle: found no workerScript() call in dist/src/audit; has worker_script.ts changed?');
  return [...names];
}

rmSync(out, { recursive: true, force: true });
await build({
  ...common,
  // main.js runs the command when it is the main module; inside a bundle it no longer is, so this
  // entry does that for `node dist/server/mayfly.js`, and exports main() for bin/mayfly.
  stdin: {
    contents: "const { main } = require('./dist/src/cli/main.js');\nif (require.main === module) main(process.argv);\nmodule.exports = { main };\n",
    resolveDir: root,
    sourcefile: 'mayfly-entry.js',
    loader: 'js',
  },
  outfile: join(out, 'mayfly.js'),
});
await build({
  ...common,
  entryPoints: Object.fromEntries(workerNames().map((name) => [name, join(compiled, 'audit', `${name}.js`)])),
  outdir: out,
});
