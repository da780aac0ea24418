// `npm run build:client`: src/cli/client_main.ts (mayfly request and mayfly agent) bundled with
// everything it imports into one file, dist/client/mayfly.js, then packed with client/package.json
// by `npm pack` into dist/mayfly-client-<version>.tgz: a package with no dependencies, no native
// module and no install script, for a host that has Node and nothing else.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stage = join(root, 'dist', 'client');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// The client's own code and the few leaf modules it shares with the server. Anything else from src/
// is a server stage (policy, signers, the ledger): it would drag in native modules and has no place
// on a service host, so the build fails and names the file.
const ALLOWED_SOURCES = [
  /^src\/client\//,
  /^src\/cli\/(client_main|request|agent)\.ts$/,
  /^src\/cli\/commands\/(request|agent|output)\.ts$/,
  /^src\/(error_message|pem|atomic_file)\.ts$/,
  /^src\/config\/(duration|source)\.ts$/,
];
const NATIVE = /(^|\/)node_modules\/(better-sqlite3|pkcs11js|pg|pg-native|bindings|node-gyp-build)\/|\.node$/;

// Another entry only to see the check refuse it (test/integration/client/package.test.ts).
const entry = process.argv[2] ?? join(root, 'src', 'cli', 'client_main.ts');
const result = await build({
  entryPoints: [entry],
  outfile: join(stage, 'mayfly.js'),
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node' },
  define: { MAYFLY_CLIENT_VERSION: JSON.stringify(version) },
  metafile: true,
  // A native module is a file the bundle cannot hold: let it be an input, so the check below names it.
  loader: { '.node': 'copy' },
  logLevel: 'warning',
  absWorkingDir: root,
});

const inputs = Object.keys(result.metafile.inputs).map((input) => relative(root, join(root, input)));
const stray = inputs.filter((input) => !input.includes('node_modules/') && !ALLOWED_SOURCES.some((pattern) => pattern.test(input)));
const native = inputs.filter((input) => NATIVE.test(input));
if (stray.length > 0 || native.length > 0) {
  console.error(`build:client: the client bundle must not contain server code or native modules; it reached:\n${[...stray, ...native].map((input) => `  ${input}`).join('\n')}`);
  process.exit(1);
}
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
writeFileSync(join(stage, 'mayfly.js'), result.outputFiles[0].contents, { mode: 0o755 });

const manifest = JSON.parse(readFileSync(join(root, 'client', 'package.json'), 'utf8'));
writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ ...manifest, version }, null, 2)}\n`);
copyFileSync(join(root, 'client', 'README.md'), join(stage, 'README.md'));
const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', join(root, 'dist')], { cwd: stage, encoding: 'utf8' }).trim().split('\n').pop();
console.log(join(root, 'dist', packed));
