// The client package as a service host gets it: built by `npm run build:client`, installed with npm
// into an empty prefix without running any script or reaching the registry, and run from there
// (nothing of the checkout's node_modules is reachable) against the real daemon over loopback HTTPS:
// every key type, a key or a CSR brought along, `agent --check`, `agent status` and JSON logs.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCliAsync, startCli, type CliResult } from '../../helpers/cli_process';
import { startTestCa, type TestCa } from '../../helpers/mayfly';
import { openssl, opensslText, opensslVerify } from '../../helpers/openssl';

const ROOT = join(__dirname, '..', '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

// Building and installing take a few seconds each; a loaded CI runner is slower.
jest.setTimeout(180_000);

describe('the mayfly-client package', () => {
  let ca: TestCa;
  let home: string;
  let prefix: string;
  let bin: string;
  let fingerprint: string;
  let work: string;
  let built: string;
  const file = (name: string) => join(work, name);
  const ENV = () => ({ MAYFLY_SECRET: ca.secret });
  const mayfly = (args: readonly string[], env: NodeJS.ProcessEnv = ENV()): Promise<CliResult> => runCliAsync(args, { env: { ...env, NODE_PATH: '' }, cwd: work, cli: bin });
  const request = (args: readonly string[]) =>
    mayfly(['request', '--server', ca.url, '--ra', 'default', '--user', 'deployer', '--secret-env', 'MAYFLY_SECRET', '--root-fingerprint', `SHA256:${fingerprint}`, '--chain', 'chain.pem', ...args]);

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mayfly-client-package-'));
    built = execFileSync(process.execPath, [join(ROOT, 'client', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' }).trim();
    // The README's own install line, with a throwaway prefix for /usr/local.
    const [, readmePrefix] = /sudo npm install -g --prefix (\S+) \.\/mayfly-client-\S+\.tgz/.exec(README)!;
    expect(readmePrefix).toBe('/usr/local');
    prefix = join(home, 'usr-local');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--offline', '--no-audit', '--no-fund', built], { cwd: home, stdio: 'pipe' });
    bin = join(prefix, 'bin', 'mayfly');
    ca = await startTestCa({ tls: true });
    fingerprint = createHash('sha256').update(new X509Certificate(readFileSync(ca.rootFile)).raw).digest('hex');
  });
  afterAll(async () => {
    await ca?.stop();
    rmSync(home, { recursive: true, force: true });
  });
  beforeEach(() => {
    work = mkdtempSync(join(home, 'work-'));
  });

  describe('the package', () => {
    it('installs as prefix/bin/mayfly, the path the systemd unit starts; one file, no dependency, no script, no native module', () => {
      const unit = readFileSync(join(ROOT, 'config', 'examples', 'agent', 'mayfly-agent.service'), 'utf8');
      expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/mayfly agent --config \/etc\/mayfly\/agent\.yaml$/m);
      expect(unit).toMatch(/^ExecStartPre=\/usr\/local\/bin\/mayfly agent --check --config \/etc\/mayfly\/agent\.yaml$/m);
      const installed = join(prefix, 'lib', 'node_modules', 'mayfly-client');
      expect(readdirSync(installed).sort()).toEqual(['README.md', 'mayfly.js', 'package.json']);
      const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
      expect(manifest).toMatchObject({ name: 'mayfly-client', bin: { mayfly: 'mayfly.js' } });
      expect(manifest.dependencies).toBeUndefined();
      expect(manifest.scripts).toBeUndefined();
      // Everything the bundle still requires is part of Node.
      const required = [...readFileSync(join(installed, 'mayfly.js'), 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]);
      expect(required.filter((name) => !isBuiltin(name))).toEqual([]);
      // Run as a command (its shebang), with only Node on the PATH.
      const version = spawnSync(bin, ['--version'], { encoding: 'utf8', env: { PATH: dirname(process.execPath) } });
      expect(version.stdout).toBe(`${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
    });

    it('the daemon, installed from a built checkout as the README says, has every command; the client package will not overwrite it', () => {
      expect(README).toContain('`npm ci && npm run build && sudo npm install -g --prefix /usr/local .`');
      const daemon = join(home, 'daemon');
      const npmInstall = (what: string) => spawnSync('npm', ['install', '-g', '--prefix', daemon, '--ignore-scripts', '--offline', '--no-audit', '--no-fund', what], { cwd: home, encoding: 'utf8' });
      expect(npmInstall(ROOT).status).toBe(0);
      const help = spawnSync(process.execPath, [join(daemon, 'bin', 'mayfly'), '--help'], { encoding: 'utf8' });
      expect(help.stdout).toMatch(/^ {2}serve /m);
      expect(help.stdout).toMatch(/^ {2}request /m);
      expect(help.stdout).toMatch(/^ {2}agent /m);
      const both = npmInstall(built);
      expect(both.status).not.toBe(0);
      expect(both.stderr).toContain(`File exists: ${join(daemon, 'bin', 'mayfly')}`);
    });

    it('the build refuses a bundle that reaches server code, naming the file', () => {
      const entry = join(home, 'entry.ts');
      writeFileSync(entry, `import '${join(ROOT, 'src', 'signers', 'pkcs11', 'module')}';\n`);
      const build = spawnSync(process.execPath, [join(ROOT, 'client', 'build.mjs'), entry], { cwd: ROOT, encoding: 'utf8' });
      expect(build.status).toBe(1);
      expect(build.stderr).toContain('build:client: the client bundle must not contain server code or native modules; it reached:\n');
      expect(build.stderr).toContain('  src/signers/pkcs11/module.ts\n');
      expect(build.stderr).toMatch(/node_modules\/pkcs11js\/build\/Release\/pkcs11\.node\n/);
    });
  });

  describe('mayfly request', () => {
    const KEYS = {
      p256: 'ASN1 OID: prime256v1',
      p384: 'ASN1 OID: secp384r1',
      rsa2048: 'Public-Key: (2048 bit)',
      rsa3072: 'Public-Key: (3072 bit)',
      rsa4096: 'Public-Key: (4096 bit)',
      ed25519: 'ED25519',
    } as const;

    /** The certificate on disk chains to the root (openssl verify), and is for the key in `keyFile`. */
    function expectIssued(keyFile: string): string {
      const certPem = readFileSync(file('svc.pem'), 'utf8');
      expect(opensslVerify(certPem, ca.rootFile, file('chain.pem'))).toEqual({ ok: true, output: expect.any(String) });
      expect(openssl(['x509', '-noout', '-pubkey'], certPem).toString()).toBe(openssl(['pkey', '-pubout'], readFileSync(keyFile)).toString());
      return opensslText(certPem);
    }

    it.each(Object.entries(KEYS))('a %s key made here gets a certificate that openssl verifies', async (keyType, keyText) => {
      const result = await request(['--cn', 'svc.mayfly.test', '--key-type', keyType, '--cert', 'svc.pem', '--key', 'svc.key']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Wrote ${file('svc.pem')} \\(serial [0-9a-f]+, valid until \\S+\\) and its key ${file('svc.key')}\\.\\n$`));
      const text = expectIssued(file('svc.key'));
      expect(text).toContain(keyText);
      expect(text).toContain('DNS:svc.mayfly.test');
      expect(statSync(file('svc.key')).mode & 0o777).toBe(0o600);
    });

    it('--reuse-key: a key brought in --key (mode 0600) is used as it is and not rewritten; one others can read, or of another type, is refused', async () => {
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', file('mine.key')]);
      chmodSync(file('mine.key'), 0o600);
      const before = readFileSync(file('mine.key'));
      const result = await request(['--cn', 'svc.mayfly.test', '--reuse-key', '--key', 'mine.key', '--cert', 'svc.pem']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`\\) for the key in ${file('mine.key')}\\.\\n$`));
      expect(expectIssued(file('mine.key'))).toContain(KEYS.p384);
      expect(readFileSync(file('mine.key'))).toEqual(before);

      chmodSync(file('mine.key'), 0o640);
      const loose = await request(['--cn', 'svc.mayfly.test', '--reuse-key', '--key', 'mine.key', '--cert', 'other.pem']);
      expect(loose.code).toBe(2);
      expect(loose.stderr).toBe(`mayfly: the key file mine.key is readable by others (mode 640); run chmod 600 on it\n`);

      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521', '-out', file('p521.key')]);
      chmodSync(file('p521.key'), 0o600);
      const odd = await request(['--cn', 'svc.mayfly.test', '--reuse-key', '--key', 'p521.key', '--cert', 'other.pem']);
      expect(odd.code).toBe(2);
      expect(odd.stderr).toBe('mayfly: p521.key holds a key of a type the client does not use (it uses p256, p384, rsa2048, rsa3072, rsa4096, ed25519)\n');
      expect(existsSync(file('other.pem'))).toBe(false);
    });

    it('--csr: a CSR made elsewhere (PEM or DER) is sent as it is; its --key must match; names come from the CSR only', async () => {
      openssl(['req', '-new', '-newkey', 'rsa:3072', '-nodes', '-keyout', file('own.key'), '-out', file('own.csr'), '-subj', '/CN=own.mayfly.test', '-addext', 'subjectAltName=DNS:own.mayfly.test,DNS:www.own.mayfly.test']);
      chmodSync(file('own.key'), 0o600);
      const result = await request(['--csr', 'own.csr', '--key', 'own.key', '--cert', 'svc.pem']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const text = expectIssued(file('own.key'));
      expect(text).toContain(KEYS.rsa3072);
      expect(text).toContain('DNS:own.mayfly.test, DNS:www.own.mayfly.test');
      expect(readdirSync(work).sort()).toEqual(['chain.pem', 'own.csr', 'own.key', 'svc.pem']);

      writeFileSync(file('own.der'), openssl(['req', '-in', file('own.csr'), '-outform', 'DER']));
      rmSync(file('svc.pem'));
      const der = await request(['--csr', 'own.der', '--cert', 'svc.pem']);
      expect(der.code).toBe(0);
      expect(der.stdout).toMatch(new RegExp(`\\) for the key of ${file('own.der')}\\.\\n$`));
      expectIssued(file('own.key'));

      openssl(['genpkey', '-algorithm', 'ED25519', '-out', file('wrong.key')]);
      chmodSync(file('wrong.key'), 0o600);
      const mismatch = await request(['--csr', 'own.csr', '--key', 'wrong.key', '--cert', 'x.pem']);
      expect(mismatch.code).toBe(2);
      expect(mismatch.stderr).toBe('mayfly: the key in wrong.key is not the key of the CSR own.csr\n');
      const mixed = await request(['--csr', 'own.csr', '--cn', 'svc.mayfly.test', '--cert', 'x.pem']);
      expect(mixed.code).toBe(2);
      expect(mixed.stderr).toBe('mayfly: --csr brings the names and the key: give no --cn, --san, --key-type or --reuse-key with it\n');
      writeFileSync(file('junk.csr'), 'not a request');
      const junk = await request(['--csr', 'junk.csr', '--cert', 'x.pem']);
      expect(junk.code).toBe(2);
      expect(junk.stderr).toBe('mayfly: junk.csr is not a PKCS#10 certificate request (PEM or DER)\n');
      expect(existsSync(file('x.pem'))).toBe(false);
    });
  });

  describe('mayfly agent', () => {
    /** An agent config in `work`: `web` (in policy) and, with `evil`, a second certificate policy refuses. */
    function agentConfig(options: { evil?: boolean } = {}): string {
      mkdirSync(file('certs'), { recursive: true });
      const certificate = (name: string, commonName: string) => `  - name: ${name}
    ra: default
    common_name: ${commonName}
    key_type: p384
    cert: certs/${name}.pem
    key: certs/${name}.key
`;
      writeFileSync(
        file('agent.yaml'),
        `server: ${ca.url}
root_fingerprint: SHA256:${fingerprint}
credentials:
  user: deployer
  secret_env: MAYFLY_SECRET
renewal: { retry_initial: 5m }
certificates:
${certificate('web', 'web.mayfly.test')}${options.evil ? certificate('evil', 'evil.example.com') : ''}`,
      );
      return file('agent.yaml');
    }

    it('--check: a usable config is summarised, exit 0; a broken one says what and where, exit 2', async () => {
      const good = await mayfly(['agent', '--check', '--config', agentConfig()]);
      expect(good.stderr).toBe('');
      expect(good.code).toBe(0);
      expect(good.stdout).toBe(`${file('agent.yaml')} is usable: 1 certificate(s) (web) from ${new URL(ca.url).origin}\n`);

      writeFileSync(file('agent.yaml'), readFileSync(file('agent.yaml'), 'utf8').replace('    key_type: p384\n', '    key_type: p521\n').replace('certs/web.key', 'missing/web.key'));
      const broken = await mayfly(['agent', '--check', '--config', file('agent.yaml')], {});
      expect(broken.code).toBe(2);
      expect(broken.stdout).toBe('');
      expect(broken.stderr).toBe(
        'mayfly: the agent config has errors:\n' +
          `${file('agent.yaml')}:11:15: certificates[0].key_type: Invalid option: expected one of "p256"|"p384"|"rsa2048"|"rsa3072"|"rsa4096"|"ed25519"\n`,
      );
      writeFileSync(file('agent.yaml'), readFileSync(file('agent.yaml'), 'utf8').replace('    key_type: p521\n', '    key_type: p256\n'));
      const unset = await mayfly(['agent', '--check', '--config', file('agent.yaml')], {});
      expect(unset.code).toBe(2);
      expect(unset.stderr).toBe(
        'mayfly: the agent config has errors:\n' +
          `${file('agent.yaml')}:5:15: credentials.secret_env: the environment variable MAYFLY_SECRET is not set\n` +
          `${file('agent.yaml')}:13:10: certificates[0].key: the folder ${file('missing')} does not exist or is not writable by this user\n`,
      );
    });

    it('status after a success and after a failure, from the status file the agent keeps beside each certificate', async () => {
      const config = agentConfig({ evil: true });
      const none = await mayfly(['agent', 'status', '--config', config], {});
      expect(none.code).toBe(1);
      expect(none.stdout).toBe(
        `web: ${file('certs/web.pem')}\n  certificate:  none yet\n  next renewal: not planned (no agent has run in daemon mode with this certificate)\n  last success: none recorded\n  last error:   none\n` +
          `evil: ${file('certs/evil.pem')}\n  certificate:  none yet\n  next renewal: not planned (no agent has run in daemon mode with this certificate)\n  last success: none recorded\n  last error:   none\n`,
      );

      const once = await mayfly(['agent', '--once', '--config', config]);
      expect(once.code).toBe(3);
      const status = await mayfly(['agent', 'status', '--config', config], {});
      expect(status.stderr).toBe('');
      expect(status.code).toBe(1);
      const serial = new X509Certificate(readFileSync(file('certs/web.pem'))).serialNumber.toLowerCase();
      const time = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
      expect(status.stdout).toMatch(
        new RegExp(
          `^web: ${file('certs/web.pem')}\\n  certificate:  serial ${serial}, expires ${time} \\(in \\d+h[\\dms]*\\)\\n  next renewal: not planned \\(no agent has run in daemon mode with this certificate\\)\\n` +
            `  last success: ${time} \\(\\S+ ago\\)\\n  last error:   none\\n` +
            `evil: ${file('certs/evil.pem')}\\n  certificate:  none yet\\n  next renewal: not planned \\(no agent has run in daemon mode with this certificate\\)\\n  last success: none recorded\\n` +
            `  last error:   ${time} \\(\\S+ ago\\), 1 failure\\(s\\) in a row: refused by policy: common_name: common name 'evil.example.com' is outside the allowed domains \\[\\.mayfly\\.test\\]; .*\\n$`,
        ),
      );
      expect(JSON.parse(readFileSync(file('certs/web.pem.status.json'), 'utf8'))).toEqual({ lastSuccess: expect.any(String) });

      // With web alone, every certificate is in place: exit 0.
      writeFileSync(config, readFileSync(config, 'utf8').replace(/  - name: evil[\s\S]*$/, ''));
      const healthy = await mayfly(['agent', 'status', '--config', config], {});
      expect(healthy.code).toBe(0);
    });

    it('--log-format json: every line the running agent writes is a JSON object; status then shows the planned renewal and the retry', async () => {
      const config = agentConfig({ evil: true });
      const agent = startCli(['agent', '--log-format', 'json', '--config', config], { env: { ...ENV(), NODE_PATH: '' }, cwd: work, cli: bin });
      try {
        await agent.waitForCount(/"subject":"web","message":"next renewal at /g, 1, 60_000);
        await agent.waitForCount(/"subject":"evil","message":"no certificate yet; attempt 1 failed: refused by policy/g, 1, 60_000);
      } finally {
        await agent.stop();
      }
      const lines = agent.output().trimEnd().split('\n');
      const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const event of events) {
        expect(Object.keys(event)).toEqual(['time', 'level', 'subject', 'message']);
        expect(new Date(event.time as string).toISOString()).toBe(event.time);
      }
      expect(events).toContainEqual(expect.objectContaining({ level: 'error', subject: 'evil', message: expect.stringMatching(/^no certificate yet; attempt 1 failed: refused by policy: /) }));

      const status = await mayfly(['agent', 'status', '--config', config], {});
      expect(status.stdout).toMatch(/^web: .*\n  certificate:  serial [0-9a-f]+, expires .*\n  next renewal: \S+ \(in \d+h[\dms]*\)\n  last success: \S+ \(\S+ ago\)\n  last error:   none\n/);
      expect(status.stdout).toMatch(/\nevil: .*\n  certificate:  none yet\n  next renewal: \S+ \(in [\dhms]+\)\n  last success: none recorded\n  last error:   \S+ \(\S+ ago\), 1 failure\(s\) in a row: refused by policy: /);
    });
  });
});
