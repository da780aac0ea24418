// The errors a newcomer meets, as they see them: the real `mayfly` command, its stderr and exit
// code. Each says what went wrong and what to do, in a sentence: no Node error codes (ENOENT,
// EEXIST, EADDRINUSE), no stack, and never a secret given in the wrong place. Every command here
// runs as a real process at least once; its other cases run it in this process (cli_in_process.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCli, type ServingCli } from '../helpers/cli';
import { runCliInProcess } from '../helpers/cli_in_process';
import { runCliAsync, type CliResult } from '../helpers/cli_process';
import { makeCsr } from '../helpers/openssl';

// Each case starts real `mayfly` processes; a loaded 2-core machine can take many seconds a spawn.
jest.setTimeout(180_000);

/** What every error here must not look like. */
function expectPlainSentence(result: CliResult): void {
  expect(result.stderr).toMatch(/^mayfly: /);
  expect(result.stderr).not.toMatch(/\bE[A-Z]{3,}\b/);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

/** Holds a TCP port on 127.0.0.1 as another program would. */
/** A port on 127.0.0.1 held by another program (a free one, bound at once: no other process can take it first). */
function occupy(): Promise<{ holder: Server; port: number }> {
  return new Promise((resolve) => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1', () => resolve({ holder, port: (holder.address() as { port: number }).port }));
  });
}

describe('errors that say what to do', () => {
  let work: string;
  let home: string;
  let config: string;
  const env = () => ({ MAYFLY_HOME: home });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mayfly-errors-'));
    home = join(work, 'data');
    expect((await runCliAsync(['init', '--dir', home])).code).toBe(0);
    config = join(home, 'mayfly.yaml');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('policy test with a CSR file that is not there names the file and how to make one', async () => {
    const result = await runCliAsync(['policy', 'test', '--ra', 'default', '--csr', 'nope.csr'], { env: env(), cwd: work });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`mayfly: cannot read the CSR ${join(work, 'nope.csr')}: there is no such file. Give --csr the path of a PEM or DER CSR, e.g. one made with: openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout svc.key -out svc.csr -subj /CN=svc.example.com\n`);
    expectPlainSentence(result);
  });

  it('init on a folder that already holds a CA refuses, names it, and says how to go on', async () => {
    const rootKey = readFileSync(join(home, 'ca', 'root.key'), 'utf8');
    const result = await runCliAsync(['init', '--dir', home]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`mayfly: ${home} already holds a Mayfly data folder (mayfly.yaml exists), and init never overwrites keys. Serve it as it is with \`mayfly serve --config ${config}\`, or create a new one elsewhere with --dir DIR (or MAYFLY_HOME=DIR)\n`);
    expect(result.stdout).toBe('');
    expectPlainSentence(result);
    expect(readFileSync(join(home, 'ca', 'root.key'), 'utf8')).toBe(rootKey);
  });

  it('init with a relative --dir prints absolute paths and a serve command that works from anywhere', async () => {
    const result = await runCliInProcess(['init', '--dir', 'relative-data'], { cwd: work });
    expect(result.code).toBe(0);
    const dir = join(work, 'relative-data');
    expect(result.stdout).toContain(`Created ${dir}/mayfly.yaml with a p256 development CA.\n`);
    expect(result.stdout).toContain(`(also in ${dir}/dev-credentials, mode 0600)\n`);
    const serveLine = new RegExp(`^Serve it with: (MAYFLY_HOME=${dir.replace(/[.]/g, '\\.')} mayfly serve) `, 'm').exec(result.stdout);
    expect(serveLine).not.toBeNull();
    // Run as printed, from another folder (`mayfly` being this checkout's): it serves that data folder.
    const serving = await serveCli(['--listen', '127.0.0.1:0'], { env: { MAYFLY_HOME: dir }, cwd: tmpdir() });
    try {
      await serving.waitFor(/"next_step":true,"msg":"openssl verify/, 60_000);
      expect(serving.output()).toContain(`--cacert ${dir}/ca/root.pem`);
    } finally {
      await serving.stop();
    }
  });

  it('init where a previous init stopped half-way refuses too, naming the file it found', async () => {
    const partial = join(work, 'partial');
    mkdirSync(join(partial, 'ca'), { recursive: true });
    writeFileSync(join(partial, 'ca', 'root.key'), 'kept');
    const result = await runCliInProcess(['init', '--dir', partial]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('(ca/root.key exists)');
    expectPlainSentence(result);
    expect(readFileSync(join(partial, 'ca', 'root.key'), 'utf8')).toBe('kept');
  });

  it('token create for an entry that is missing or not a token backend says which entries exist and what is needed', async () => {
    const missing = await runCliAsync(['token', 'create', '--auth', 'nope', '--config', config]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`mayfly: no authentication entry named "nope" in ${config} (defined: deployers); add one with backend: token and tokens_file: tokens.yaml, then run this again\n`);
    const wrong = await runCliInProcess(['token', 'create', '--auth', 'deployers', '--config', config]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(`mayfly: authentication deployers in ${config} is backend: static; tokens need an entry with backend: token (and tokens_file)\n`);
    expect(missing.stdout + wrong.stdout).toBe('');
  });

  it('an audit command run outside the data folder says where it looked and how to point it', async () => {
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    const result = await runCliAsync(['audit', 'list'], { env: { MAYFLY_HOME: '' }, cwd: elsewhere });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`mayfly: no config file at ${join(elsewhere, 'mayfly-data', 'mayfly.yaml')}. Run the command in the folder that holds mayfly-data/, or say where the config is: --config FILE, or MAYFLY_HOME=DIR (the folder holding mayfly.yaml)\n`);
    expectPlainSentence(result);
  });

  it('a misspelt config key suggests the nearest valid one; a wrong type says what the key takes, with an example', async () => {
    const bad = join(home, 'bad.yaml');
    const yaml = readFileSync(config, 'utf8')
      .replace(/^server:\n/m, 'server:\n  metrics_listn: 127.0.0.1:9090\n  log_level: verbose\n')
      .replace('valid_hours: 24', 'valid_hours: "24"')
      .replace('backend: local', 'backend: locl')
      .replace('allowed_domains:', 'alowed_domains:');
    writeFileSync(bad, yaml);
    const lineOf = (text: string) => yaml.split('\n').findIndex((line) => line.includes(text)) + 1;
    const result = await runCliAsync(['policy', 'check', '--config', bad]);
    expect(result.code).toBe(1);
    const problems = result.stderr.split('\n');
    expect(problems[0]).toBe('mayfly: the config has errors:');
    expect(problems).toContain(`${bad}:${lineOf('metrics_listn')}:3: server.metrics_listn: unknown key (did you mean metrics_listen?)`);
    expect(problems).toContain(`${bad}:${lineOf('log_level')}:14: server.log_level: expected one of debug, info, warn, error; found the text "verbose"`);
    expect(problems).toContain(`${bad}:${lineOf('valid_hours')}:18: registration_authority.default.valid_hours: expected a number, e.g. 24; found the text "24"`);
    expect(problems).toContain(`${bad}:${lineOf('backend: locl')}:14: signing_ca.local.backend: expected one of local, pkcs11; found the text "locl" (did you mean local?)`);
    expect(result.stderr).not.toMatch(/Invalid input|received|discriminator/);
  });

  it('a misspelt validator option suggests the option it meant', async () => {
    const bad = join(home, 'bad-option.yaml');
    writeFileSync(bad, readFileSync(config, 'utf8').replace('allowed_domains:', 'alowed_domains:'));
    const result = await runCliInProcess(['policy', 'check', '--config', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/: registration_authority\.default\.validators\[\d\]\.\w+\.alowed_domains: unknown key \(did you mean allowed_domains\?\)\n/);
  });

  describe('with a server', () => {
    let serving: ServingCli;
    beforeAll(async () => {
      serving = await serveCli(['--config', config, '--listen', '127.0.0.1:0'], { env: env() });
    });
    afterAll(() => serving.stop());

    it('a busy port names the address and suggests --listen', async () => {
      const port = Number(new URL(serving.url).port);
      const result = await runCliAsync(['serve', '--config', config, '--listen', `127.0.0.1:${port}`], { env: env() });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`mayfly: 127.0.0.1:${port} (--listen) is already in use: another Mayfly or another program listens there. Stop it, or listen elsewhere with --listen HOST:PORT (or server.listen in ${config})\n`);
      expectPlainSentence(result);
    });

    it('a wrong RA name is reported once, with what to check', async () => {
      const result = await runCliInProcess(
        ['request', '--server', serving.url, '--ra', 'nope', '--cn', 'svc.mayfly.test', '--cert', join(work, 'svc.pem'), '--key', join(work, 'svc.key'), '--user', 'deployer', '--secret-env', 'MAYFLY_SECRET', '--cacert', join(home, 'ca', 'root.pem')],
        { env: { MAYFLY_SECRET: /secret=(.*)/.exec(readFileSync(join(home, 'dev-credentials'), 'utf8'))![1] } },
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toBe('mayfly: the server has no registration authority "nope": check --ra (the RA\'s name in the server\'s config)\n');
    });
  });

  it('a busy server.listen or server.metrics_listen names the setting to change', async () => {
    const { holder, port } = await occupy();
    try {
      const listening = join(home, 'busy-listen.yaml');
      writeFileSync(listening, readFileSync(config, 'utf8').replace(/^ {2}listen: \S+/m, `  listen: 127.0.0.1:${port}`));
      const main = await runCliAsync(['serve', '--config', listening], { env: env() });
      expect(main.code).toBe(1);
      expect(main.stderr).toBe(`mayfly: 127.0.0.1:${port} (server.listen) is already in use: another Mayfly or another program listens there. Stop it, or listen elsewhere with --listen HOST:PORT (or server.listen in ${listening})\n`);
      const metrics = join(home, 'busy-metrics.yaml');
      writeFileSync(metrics, readFileSync(config, 'utf8').replace(/^server:\n/m, `server:\n  metrics_listen: 127.0.0.1:${port}\n`));
      const ops = await runCliAsync(['serve', '--config', metrics, '--listen', '127.0.0.1:0'], { env: env() });
      expect(ops.code).toBe(1);
      expect(ops.stderr).toBe(`mayfly: 127.0.0.1:${port} (server.metrics_listen) is already in use: another Mayfly or another program listens there. Stop it, or choose another server.metrics_listen in ${metrics}\n`);
    } finally {
      holder.close();
    }
  });

  it('a secret given to --secret-env instead of a variable name is never echoed', async () => {
    const secret = 'Tr0ub4dor&3-correct-horse';
    const result = await runCliAsync(['request', '--server', 'https://127.0.0.1:1', '--ra', 'default', '--cn', 'svc.mayfly.test', '--cert', join(work, 'x.pem'), '--key', join(work, 'x.key'), '--user', 'deployer', '--secret-env', secret, '--cacert', join(home, 'ca', 'root.pem')]);
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).not.toContain(secret);
    expect(result.stderr).toContain('take the NAME of a variable, not the secret itself');
    expect(result.stderr).toContain('--secret-env MAYFLY_SECRET');
  });

  it('a variable name that is simply unset is still named', async () => {
    const result = await runCliInProcess(['request', '--server', 'https://127.0.0.1:1', '--ra', 'default', '--cn', 'svc.mayfly.test', '--cert', join(work, 'x.pem'), '--key', join(work, 'x.key'), '--user', 'deployer', '--secret-env', 'MAYFLY_UNSET_SECRET', '--cacert', join(home, 'ca', 'root.pem')], { env: { MAYFLY_UNSET_SECRET: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('mayfly: the environment variable MAYFLY_UNSET_SECRET is not set\n');
  });
});

describe('mayfly serve --allow-plaintext', () => {
  let work: string;
  let config: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mayfly-plaintext-'));
    expect((await runCliInProcess(['init', '--dir', work])).code).toBe(0);
    config = join(work, 'mayfly.yaml');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('serves plain HTTP on loopback, saying so at warn', async () => {
    const serving = await serveCli(['--config', config, '--listen', '127.0.0.1:0', '--allow-plaintext']);
    try {
      expect(serving.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await serving.waitFor(/serving plain HTTP \(--allow-plaintext\) on loopback only/);
      const secret = /secret=(.*)/.exec(readFileSync(join(work, 'dev-credentials'), 'utf8'))![1];
      const answer = await fetch(`${serving.url}/v1/sign/default`, { method: 'POST', body: new URLSearchParams({ user: 'deployer', secret, encoding: 'pem', csr: makeCsr().pem }) });
      expect(answer.status).toBe(200);
    } finally {
      await serving.stop();
    }
  });

  it('refuses a non-loopback address unless the config allows plaintext there', async () => {
    const result = await runCliAsync(['serve', '--config', config, '--listen', '0.0.0.0:0', '--allow-plaintext']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('mayfly: refusing to serve plain HTTP on 0.0.0.0: secrets would cross the network in clear. Drop --allow-plaintext to serve HTTPS, listen on 127.0.0.1 behind a proxy on this host, or set server.allow_plaintext: true behind a TLS-terminating proxy\n');
    expect(result.stdout).not.toContain('listening on');
  });

  it('serves a non-loopback address when the config also says server.allow_plaintext: true', async () => {
    const allowed = join(work, 'allowed.yaml');
    writeFileSync(allowed, readFileSync(config, 'utf8').replace(/^server:\n/m, 'server:\n  allow_plaintext: true\n'));
    const serving = await serveCli(['--config', allowed, '--listen', '0.0.0.0:0', '--allow-plaintext']);
    try {
      expect(serving.url).toMatch(/^http:\/\/0\.0\.0\.0:[1-9]\d*$/);
      const { port } = new URL(serving.url);
      await serving.waitFor(/serving plain HTTP \(--allow-plaintext\) on 0\.0\.0\.0: credentials travel in clear/);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await serving.stop();
    }
  });
});
