// What a `mayfly` process loads before it does anything: only commander and the options of each
// command. A command's implementation loads when that command runs, so `mayfly request` on a
// service host, `--help`, and every `mayfly` child a test spawns do not pay for the server's ~900
// modules (~0.8 s CPU): no native module, no Express, no ledger. bin/mayfly runs these modules
// bundled into one file (scripts/bundle.mjs), which keeps each `require` where it was: the native
// modules and pino, left outside the bundle, load only when a command needs them.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serveCli, servePlainHttp, type ServingCli } from '../helpers/cli';
import { runCliInProcess } from '../helpers/cli_in_process';
import { basicAuth } from './support';

jest.setTimeout(120_000);

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const REPO = join(__dirname, '..', '..');
const BUNDLE = join(REPO, 'dist', 'server', 'mayfly.js');

/** The server's stages and the packages only they use; none belongs in a process that shows help. */
const SERVER_MODULES = /node_modules\/(better-sqlite3|pkcs11js|express|helmet|pg|pino|prom-client|ldapts|zod|yaml|@peculiar)\/|dist\/src\/(audit\/(?!outcomes)|http|auth|ra|policy|issuance\/(?!ca_key_type)|signers\/(?!signer\.js|pkcs11\/token_key_type)|config\/(?!duration|config_error|source)|cli\/(serve|init|ca|pkcs11|policy|audit|request|agent|supervise_workers|logger)\.js)/;

interface Loaded {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every file in require.cache when the process exited. */
  readonly modules: readonly string[];
}

/** A node script that runs `mayfly` (from `entry`) with its arguments and reports, as it exits, every module it loaded. */
const reportingModules = (entry: string) => `process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));
require(${JSON.stringify(entry)}).main(['node', 'mayfly', ...process.argv.slice(1)]);`;

/** The threads of process `pid` that run a Node Worker (the ledger's writer and its indexer, its reader). */
const workerThreads = (pid: number) => readdirSync(`/proc/${pid}/task`).filter((task) => readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim() === 'WorkerThread').length;

/** Runs `mayfly ARGS` (from `entry`) in a node that reports, as it exits, every module it loaded. */
async function loadedBy(args: readonly string[], entry = MAIN): Promise<Loaded> {
  const script = reportingModules(entry);
  const run = await promisify(execFile)(process.execPath, ['-e', script, '--', ...args]).catch((error: { code: number; stdout: string; stderr: string }) => error);
  const [stderr, list] = run.stderr.split('\nLOADED ');
  if (list === undefined) throw new Error(`mayfly ${args.join(' ')} did not report its modules:\n${run.stderr}`);
  return { code: 'code' in run ? run.code : 0, stdout: run.stdout, stderr: stderr ?? '', modules: JSON.parse(list) as string[] };
}

describe('mayfly start-up', () => {
  const helps = [['--help'], ['request', '--help'], ['agent', '--help'], ['serve', '--help'], ['init', '--help'], ['pkcs11', 'init-ca', '--help'], ['ca', 'rotate', '--help'], ['audit', 'list', '--help'], ['policy', 'test', '--help'], ['token', 'create', '--help']];

  it('shows every help without loading a server module', async () => {
    // Independent processes: at once.
    const runs = await Promise.all(helps.map((args) => loadedBy(args)));
    runs.forEach((run, index) => {
      expect({ args: helps[index], code: run.code, usage: run.stdout.startsWith('Usage: mayfly') }).toEqual({ args: helps[index], code: 0, usage: true });
      expect({ args: helps[index], server: run.modules.filter((file) => SERVER_MODULES.test(file)) }).toEqual({ args: helps[index], server: [] });
    });
    // The lists of choices are still there, from their light modules.
    expect(runs[4]?.stdout.replace(/\s+/g, ' ')).toContain('"p256", "p384", "rsa2048", "rsa3072", "rsa4096", "ed25519"');
    expect(runs[5]?.stdout.replace(/\s+/g, ' ')).toContain('"p256", "p384", "rsa2048", "rsa3072"');
  });

  it('shows help from the bundle without loading anything beside it', async () => {
    const some = [['--help'], ['serve', '--help'], ['request', '--help']];
    const runs = await Promise.all(some.map((args) => loadedBy(args, BUNDLE)));
    runs.forEach((run, index) => {
      expect({ args: some[index], code: run.code, usage: run.stdout.startsWith('Usage: mayfly') }).toEqual({ args: some[index], code: 0, usage: true });
      // This checkout's files and packages (a NODE_OPTIONS --require of the caller's may be there too).
      const ours = run.modules.filter((file) => file.startsWith(REPO) || file.includes('/node_modules/'));
      expect({ args: some[index], modules: ours }).toEqual({ args: some[index], modules: [BUNDLE] });
    });
  });

  it('loads a command\'s implementation when the command runs, and reports its errors as before', async () => {
    const run = await loadedBy(['policy', 'check', '--config', join(__dirname, 'no-such-config.yaml')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^mayfly: .*no-such-config\.yaml/);
    expect(run.modules.some((file) => file.endsWith(join('dist', 'src', 'cli', 'policy.js')))).toBe(true);
  });

  it('serves without ACME, PKCS#11 or LDAP without loading their modules, and starts the ledger reader thread at the first read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayfly-startup-'));
    let serving: ServingCli | undefined;
    try {
      const init = await runCliInProcess(['init', '--dir', dir]);
      expect(init.code).toBe(0);
      const secret = /shown once: (\S+)/.exec(init.stdout)![1];
      const configFile = join(dir, 'mayfly.yaml');
      writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('    user: deployer\n', '    user: deployer\n    groups: [auditors]\n    audit_admin_groups: [auditors]\n'));
      servePlainHttp(configFile);
      serving = await serveCli(['--config', configFile, '--listen', '127.0.0.1:0'], { command: [process.execPath, '-e', reportingModules(MAIN), '--'] });
      // Listening: the ledger's writer and its indexer run; its reader has not started.
      const pid = serving.child.pid!;
      expect(workerThreads(pid)).toBe(2);
      const read = await fetch(`${serving.url}/v1/audit`, { headers: { Authorization: basicAuth('deployer', secret) } });
      expect(read.status).toBe(200);
      expect(workerThreads(pid)).toBe(3);
      await serving.stop();
      const modules = JSON.parse(serving.output().split('\nLOADED ')[1]!) as string[];
      expect(modules.some((file) => file.endsWith(join('dist', 'src', 'http', 'app.js')))).toBe(true);
      // Nor what only other configs need: a key on a token, an LDAP directory.
      expect(modules.filter((file) => /dist\/src\/(acme\/(router|validation)|signers\/pkcs11\/signer|auth\/ldap)|node_modules\/(@peculiar\/x509|pkcs11js|ldapts)\//.test(file))).toEqual([]);
    } finally {
      await serving?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
