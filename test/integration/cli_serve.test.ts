// The real `mayfly serve` as a newcomer meets it: a fresh MAYFLY_HOME, the printed next steps run
// exactly as printed through bash, the data folder's secrets kept private, and a refusal to serve
// plain HTTP off loopback.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { scrypt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, serveCli, servePlainHttp, type ServingCli } from '../helpers/cli';
import { opensslVerify } from '../helpers/openssl';
import { viewCertificate } from './support';

const REPO = join(__dirname, '..', '..');

/** The newest modification time of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm test` builds before jest; a local run may have a missing or stale dist/, so build it then. */
function ensureBuilt(): void {
  const sources = Math.max(newestMtime(join(REPO, 'src')), newestMtime(join(REPO, 'validators')));
  const bundle = join(REPO, 'dist', 'server', 'mayfly.js');
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sources) return;
  try {
    execFileSync(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'pipe' });
    execFileSync(process.execPath, [join(REPO, 'scripts', 'bundle.mjs')], { cwd: REPO, stdio: 'pipe' });
  } catch (error) {
    throw new Error(`dist/ is stale and \`npm run build\` failed:\n${String((error as { stdout?: Buffer }).stdout ?? error)}`);
  }
}

interface Shell {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One printed line, run through bash exactly as printed. */
function bash(line: string, cwd: string): Promise<Shell> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs `mayfly ARGS` to its exit, killing it (and failing) if it outlives `timeoutMs`. */
function runToExit(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mayfly ${args.join(' ')} still running after ${timeoutMs} ms; output:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface NextSteps {
  readonly url: string;
  readonly request: string;
  readonly curl: string;
  readonly chain: string;
  readonly verify: string;
}

/** The server's output as log records: every line it prints is one JSON object. */
function logRecords(output: string): { msg: string; next_step?: boolean; level: number }[] {
  return output.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}

/** The listening URL and the four commands logged after "Request a certificate". */
async function nextSteps(serving: ServingCli): Promise<NextSteps> {
  await serving.waitFor(/"msg":"openssl verify [^\n]*\n/);
  const records = logRecords(serving.output());
  // HTTPS by default: the printed curl trusts the development root it was just given.
  const url = /Mayfly listening on (https:\/\/127\.0\.0\.1:\d+) /.exec(serving.output())![1];
  const commands = records.filter((record) => record.next_step).map((record) => record.msg);
  expect(commands).toHaveLength(4);
  const [request, curl, chain, verify] = commands;
  expect(request).toMatch(/^openssl req /);
  expect(curl).toMatch(/^curl /);
  expect(chain).toMatch(/^curl .*\/v1\/ca\/default -o chain\.pem$/);
  expect(verify).toMatch(/^openssl verify /);
  expect(curl).toContain(`${url}/v1/sign/default`);
  // Absolute paths: the commands work from any folder, not only where the server started.
  expect(curl).toMatch(/ --cacert ('\/[^']*\/ca\/root\.pem'|\/\S*ca\/root\.pem) /);
  expect(verify).toMatch(/-CAfile ('\/[^']*\/ca\/root\.pem'|\/\S*ca\/root\.pem) /);
  return { url, request, curl, chain, verify };
}

/** Runs the printed request, curl and verify lines in `cwd`; returns what openssl verify printed. */
async function runNextSteps(steps: NextSteps, cwd: string): Promise<string> {
  for (const file of ['svc.key', 'svc.csr', 'svc.pem', 'chain.pem']) rmSync(join(cwd, file), { force: true });
  for (const line of [steps.request, steps.curl, steps.chain]) {
    const result = await bash(line, cwd);
    if (result.code !== 0) throw new Error(`printed command failed (${result.code}): ${line}\n${result.stdout}${result.stderr}`);
  }
  const verified = await bash(steps.verify, cwd);
  return verified.stdout + verified.stderr;
}

const SCRYPT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

function scryptOf(secret: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, 32, { N, r, p, maxmem: 256 * N * r }, (error, key) => (error ? reject(error) : resolve(key))));
}

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('mayfly serve on a fresh machine', () => {
  let work: string;
  const running: ServingCli[] = [];
  const start = async (env: NodeJS.ProcessEnv, cwd: string): Promise<ServingCli> => {
    const serving = await serveCli(['--listen', '127.0.0.1:0'], { env, cwd });
    running.push(serving);
    return serving;
  };

  beforeAll(() => {
    ensureBuilt();
    work = mkdtempSync(join(tmpdir(), 'mayfly-cli-'));
  });
  afterAll(async () => {
    await Promise.all(running.map((serving) => serving.stop()));
    rmSync(work, { recursive: true, force: true });
  });

  const home = () => join(work, 'mayfly-data');
  let secret: string;

  it('creates a CA on first start, logs where the secret is (never the secret), and the printed commands issue a certificate openssl verifies', async () => {
    const serving = await start({ MAYFLY_HOME: 'mayfly-data' }, work);
    const steps = await nextSteps(serving);
    const output = serving.output();
    secret = /^secret=([\w-]+)$/m.exec(readFileSync(join(home(), 'dev-credentials'), 'utf8'))![1];
    expect(secret.length).toBeGreaterThanOrEqual(24);
    // The secret never goes into a log line (collectors keep them); the log says where the file is.
    expect(output).not.toContain(secret);
    expect(output).toContain(`The secret of user deployer is in ${join(home(), 'dev-credentials')} (mode 0600`);
    expect(output).toContain(`Created a development CA and config in ${home()}/`);
    // Every line is a JSON log record (pino-pretty only on a terminal), none plain text.
    expect(() => logRecords(output)).not.toThrow();

    expect(await runNextSteps(steps, work)).toBe('svc.pem: OK\n');
    const issued = viewCertificate(readFileSync(join(work, 'svc.pem'), 'utf8'));
    expect(issued.node.subject).toBe('CN=svc.mayfly.test');
    expect(issued.node.subjectAltName).toBe('DNS:svc.mayfly.test');
    expect(opensslVerify(issued.pem, join(home(), 'ca', 'root.pem'), join(home(), 'ca', 'intermediate.pem')).ok).toBe(true);
  });

  it('prints next steps that work from another folder, and still verify after `mayfly ca rotate`', async () => {
    const steps = await nextSteps(running[0]);
    const other = join(work, 'other-folder');
    mkdirSync(other, { recursive: true });
    const rotated = await runToExit(['ca', 'rotate', '--signing-ca', 'local'], { MAYFLY_HOME: 'mayfly-data' }, work, 90_000);
    expect(rotated.code).toBe(0);
    await running[0].waitFor(/Reloaded /, 60_000);
    // a certificate from the new issuing CA, verified with the printed steps: the chain is fetched, not the old file
    expect(await runNextSteps(steps, other)).toBe('svc.pem: OK\n');
    expect(viewCertificate(readFileSync(join(other, 'svc.pem'), 'utf8')).node.issuer).toMatch(/Issuing CA \d{4}-\d\d-\d\d/);
  }, 120_000);

  it('writes the keys, the credentials and the config mode 0600', () => {
    expect(mode(join(home(), 'ca', 'root.key'))).toBe('600');
    expect(mode(join(home(), 'ca', 'intermediate.key'))).toBe('600');
    expect(mode(join(home(), 'dev-credentials'))).toBe('600');
    expect(mode(join(home(), 'mayfly.yaml'))).toBe('600');
    expect(readFileSync(join(home(), 'dev-credentials'), 'utf8')).toBe(`user=deployer\nsecret=${secret}\n`);
  });

  it("keeps only the secret's scrypt hash in mayfly.yaml, never the secret", async () => {
    const yaml = readFileSync(join(home(), 'mayfly.yaml'), 'utf8');
    expect(yaml).not.toContain(secret);
    const stored = /secret_hash: "([^"]+)"/.exec(yaml)![1];
    const [, N, r, p, salt, hash] = SCRYPT.exec(stored)!;
    const derived = await scryptOf(secret, Buffer.from(salt, 'base64'), Number(N), Number(r), Number(p));
    expect(derived.toString('base64')).toBe(hash);
    expect((await scryptOf(`${secret}x`, Buffer.from(salt, 'base64'), Number(N), Number(r), Number(p))).toString('base64')).not.toBe(hash);
  });

  it('reuses the folder on a second start without printing the secret again', async () => {
    const rootBefore = readFileSync(join(home(), 'ca', 'root.pem'), 'utf8');
    await Promise.all(running.splice(0).map((serving) => serving.stop()));
    const serving = await start({ MAYFLY_HOME: 'mayfly-data' }, work);
    const steps = await nextSteps(serving);
    const output = serving.output();
    expect(output).not.toContain(secret);
    expect(output).not.toMatch(/secret of user|Created a development CA/);
    expect(readFileSync(join(home(), 'ca', 'root.pem'), 'utf8')).toBe(rootBefore);
    // the same credentials still work, through the commands this start printed
    expect(await runNextSteps(steps, work)).toBe('svc.pem: OK\n');
  });

  it('prints commands that work from the current folder when MAYFLY_HOME is an absolute path elsewhere', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'mayfly-home-'));
    const cwd = join(work, 'elsewhere-cwd');
    mkdirSync(cwd);
    try {
      const serving = await start({ MAYFLY_HOME: join(elsewhere, 'data') }, cwd);
      expect(await runNextSteps(await nextSteps(serving), cwd)).toBe('svc.pem: OK\n');
    } finally {
      await Promise.all(running.splice(0).map((serving) => serving.stop()));
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('prints commands that still work when the data folder has a space in its name', async () => {
    const cwd = join(work, 'spaced-cwd');
    mkdirSync(cwd);
    try {
      const serving = await start({ MAYFLY_HOME: 'mayfly data' }, cwd);
      expect(await runNextSteps(await nextSteps(serving), cwd)).toBe('svc.pem: OK\n');
    } finally {
      await Promise.all(running.splice(0).map((serving) => serving.stop()));
    }
  });

  it('serves HTTPS by default, and refuses plain HTTP on a non-loopback address at start', async () => {
    const home = join(work, 'plain-refused');
    const init = await runToExit(['init', '--dir', home], {}, work);
    expect(init.code).toBe(0);
    const config = join(home, 'mayfly.yaml');
    servePlainHttp(config);
    const result = await runToExit(['serve', '--config', config, '--listen', '0.0.0.0:0'], {}, work);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mayfly: refusing to serve plain HTTP on 0\.0\.0\.0: secrets would cross the network in clear\./m);
    expect(result.stderr).toContain('server.allow_plaintext: true');
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).not.toContain('listening on');
  });

});
