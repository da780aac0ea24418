// `mayfly agent` against the real daemon (`mayfly serve`, a child process) issuing 30-second
// certificates: --once for boot, then the agent renewing over mTLS, running its hooks, a live Node
// HTTPS server reloading on SIGHUP and seen through a real TLS handshake, and the CA going away for
// a while and coming back on the same port and data folder.
import { createHash, X509Certificate } from 'node:crypto';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { serveCli, type ServingCli } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';
import { runCliAsync, startCli, type RunningCli } from '../../helpers/cli_process';
import { opensslVerify } from '../../helpers/openssl';

const RENEWED = /\[web\] renewed via mTLS at RA renew: serial ([0-9a-f]+),/g;

/** Default's policy on a 30-second life, and a second RA, `renew`, that authenticates by client certificate. */
function shortLived(yaml: string): string {
  const halfMinute = yaml.replace(/    valid_hours: 24[^\n]*\n/, '    validity: 30s\n').replace(/    backdate_minutes: 5[^\n]*\n/, '    backdate_minutes: 0\n');
  const policy = halfMinute.slice(halfMinute.indexOf('    validity: 30s'));
  return halfMinute.replace('authentication:\n', 'authentication:\n  renewers:\n    backend: mtls\n') + `  renew:\n    authentication: renewers\n    signing_ca: local\n${policy}`;
}

const until = async (condition: () => boolean, what: string, timeoutMs = 20_000) => {
  for (const start = Date.now(); !condition(); ) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('mayfly agent', () => {
  let dir: string;
  let configFile: string;
  let secret: string;
  let fingerprint: string;
  let rootPem: string;
  let ca: ServingCli;
  let port: number;
  let agent: RunningCli | undefined;
  let service: ChildProcessWithoutNullStreams | undefined;
  let serviceOutput = '';
  const path = (name: string) => join(dir, name);
  const fileSerial = () => new X509Certificate(readFileSync(path('certs/web.pem'))).serialNumber.toLowerCase();

  /** An agent config for `web.mayfly.test` (or `commonName`) with quick renewal settings. */
  function agentConfig(name: string, renewal: string, commonName = 'web.mayfly.test'): string {
    const file = path(name);
    writeFileSync(
      file,
      `server: https://127.0.0.1:${port}
root_fingerprint: SHA256:${fingerprint}
credentials:
  user: deployer
  secret_env: MAYFLY_SECRET
renewal: { ${renewal}, min_wait: 2s, retry_initial: 1s, retry_max: 4s, check_interval: 1s }
certificates:
  - name: web
    ra: default
    renew_ra: renew                       # renew_with: auto, so mTLS at this RA
    common_name: ${commonName}
    cert: certs/web.pem
    key: certs/web.key
    chain: certs/web-chain.pem
    fullchain: certs/web-full.pem
    hooks:
      # The agent's secret is withheld from hooks.
      - command: 'echo "$MAYFLY_SERIAL secret=\${MAYFLY_SECRET:-withheld}" >> ${path('hooks.log')}'
      # Fails the first time it runs for a certificate, succeeds when retried.
      - command: 'if [ -e ${path('flaky')}.$MAYFLY_SERIAL ]; then echo "$MAYFLY_SERIAL" >> ${path('flaky.log')}; else touch ${path('flaky')}.$MAYFLY_SERIAL; exit 1; fi'
        timeout: 10s
      - signal: SIGHUP
        pid_file: service.pid
`,
    );
    return file;
  }

  /** The serial a TLS client sees when it connects to the service, verifying it against the root. */
  function handshakeSerial(servicePort: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: servicePort, servername: 'web.mayfly.test', ca: rootPem }, () => {
        const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
        socket.end();
        resolve(serial);
      });
      socket.once('error', reject);
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-agent-'));
    mkdirSync(path('certs'));
    const init = await runCliInProcess(['init', '--dir', path('ca')]);
    expect(init.code).toBe(0);
    fingerprint = /Root SHA-256 fingerprint: ([0-9a-f]{64})/.exec(init.stdout)![1];
    secret = /shown once: (\S+)/.exec(init.stdout)![1];
    configFile = path('ca/mayfly.yaml');
    writeFileSync(configFile, shortLived(readFileSync(configFile, 'utf8')), { mode: 0o600 });
    rootPem = readFileSync(path('ca/ca/root.pem'), 'utf8');
    expect(createHash('sha256').update(new X509Certificate(rootPem).raw).digest('hex')).toBe(fingerprint);
    ca = await serveCli(['--config', configFile, '--listen', '127.0.0.1:0']);
    port = Number(new URL(ca.url).port);
  });

  afterAll(async () => {
    await agent?.stop();
    service?.kill('SIGKILL');
    await ca?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--once gets the certificate before the service starts, without running hooks, and leaves a fresh one in place', async () => {
    const once = agentConfig('once.yaml', 'at: 0.9, jitter: 0.05');
    const first = await runCliAsync(['agent', '--config', once, '--once'], { env: { MAYFLY_SECRET: secret }, cwd: dir });
    expect(first.stderr).toMatch(/INFO  \[web\] no certificate at .*certs\/web\.pem yet; requesting a new certificate now\n/);
    expect(first.stderr).toMatch(/\[web\] renewed via static credentials at RA default: serial [0-9a-f]+, valid until /);
    expect(first.code).toBe(0);
    expect(opensslVerify(readFileSync(path('certs/web.pem'), 'utf8'), path('ca/ca/root.pem'), path('certs/web-chain.pem')).ok).toBe(true);
    expect(existsSync(path('hooks.log'))).toBe(false);
    const serial = fileSerial();

    const again = await runCliAsync(['agent', '--config', once, '--once'], { env: { MAYFLY_SECRET: secret }, cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/INFO  \[web\] in place, valid until /);
    expect(fileSerial()).toBe(serial);
  });

  it('--once reports a policy refusal with its reasons and exit 3, and a bad config with file:line and exit 2', async () => {
    const refused = agentConfig('evil.yaml', 'at: 0.9, jitter: 0.05', 'evil.example.com');
    writeFileSync(refused, readFileSync(refused, 'utf8').replace(/certs\//g, 'evil/'));
    mkdirSync(path('evil'));
    const result = await runCliAsync(['agent', '--config', path('evil.yaml'), '--once'], { env: { MAYFLY_SECRET: secret }, cwd: dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("ERROR [web] not in place: refused by policy: common_name: common name 'evil.example.com' is outside the allowed domains [.mayfly.test]; alternative_names: DNS name 'evil.example.com' is outside the allowed domains [.mayfly.test]");
    expect(existsSync(path('evil/web.pem'))).toBe(false);

    writeFileSync(path('bad.yaml'), readFileSync(path('once.yaml'), 'utf8').replace('    ra: default\n', '    ra: default\n    colour: blue\n'));
    const bad = await runCliAsync(['agent', '--config', path('bad.yaml'), '--once'], { env: { MAYFLY_SECRET: secret } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`mayfly: the agent config has errors:\n${path('bad.yaml')}:10:5: certificates[0].colour: unknown key\n`);
  });

  it('renews at least twice over mTLS, runs the hooks (retrying the one that fails), and a live HTTPS server serves each new certificate', async () => {
    const initialSerial = fileSerial();
    service = spawn(process.execPath, [join(__dirname, '..', '..', 'helpers', 'reloading_https_server.js'), path('certs/web-full.pem'), path('certs/web.key'), path('service.pid')]);
    service.stdout.on('data', (chunk: Buffer) => (serviceOutput += chunk.toString()));
    await until(() => /listening \d+/.test(serviceOutput), 'the HTTPS service to listen');
    const servicePort = Number(/listening (\d+)/.exec(serviceOutput)![1]);
    expect(await handshakeSerial(servicePort)).toBe(initialSerial);

    // Renewal 3-4.5 s into each 30-second certificate: the tests wait for four renewals, and most of
    // the life is left as margin for a slow renewal on a loaded machine. Never sooner than 3 s, as
    // with the one-minute certificates before: the flaky hook's retry (~1 s after it failed) must
    // run before the next renewal replaces that renewal's retries.
    agent = startCli(['agent', '--config', agentConfig('agent.yaml', 'at: 0.125, jitter: 0.025')], { env: { MAYFLY_SECRET: secret }, cwd: dir });
    const renewals = await agent.waitForCount(RENEWED, 2, 75_000);
    const serials = renewals.map((match) => match[1]);
    expect(new Set([initialSerial, ...serials]).size).toBe(3);
    expect(agent.output()).toMatch(/\[web\] valid until .*; renewal (at|due now)/);
    expect(agent.output()).not.toMatch(/renewed via static credentials/);

    // Every renewal ran the hooks: the command saw the serial, the flaky hook failed once and was retried.
    await until(() => existsSync(path('flaky.log')) && serials.every((serial) => readFileSync(path('flaky.log'), 'utf8').includes(serial)), 'the flaky hook to succeed on retry');
    const hookLog = readFileSync(path('hooks.log'), 'utf8').trim().split('\n');
    expect(hookLog.slice(0, 2)).toEqual(serials.map((serial) => `${serial} secret=withheld`));
    expect(agent.output()).toMatch(/WARN  \[web\] hook command .* failed \(exit 1\)/);
    expect(agent.output()).toMatch(/WARN  \[web\] 1 hook\(s\) failed \(attempt 1\); trying them again in \d/);

    // The service was signalled and reloaded; a new TLS handshake sees a renewed certificate, not the first.
    await until(() => serviceOutput.includes(`reloaded ${serials[1]}`), 'the service to reload the second renewal');
    let seen = '';
    for (let i = 0; i < 100; i++) {
      seen = await handshakeSerial(servicePort);
      if (seen === fileSerial()) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(seen).toBe(fileSerial());
    expect(seen).not.toBe(initialSerial);
    expect([...agent.output().matchAll(RENEWED)].map((match) => match[1])).toContain(seen);
  }, 120_000);

  it('keeps trying with growing back-off while the CA is down, and recovers when it is back on the same port', async () => {
    const running = agent!;
    await ca.stop();
    const downAt = running.output().length;
    const failures = /\[web\] renewal attempt (\d+) failed: cannot reach https:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED[^;]*; trying again in (\d+)(ms|s)/g;
    const seen = await running.waitForCount(failures, 3, 60_000);
    expect(seen.every((match) => (match.index ?? 0) >= downAt)).toBe(true);
    // retry_initial 1s doubling to retry_max 4s, ± 25 %, as logged (rounded to the second).
    for (const [, attempt, amount, unit] of seen) {
      const delay = Number(amount) * (unit === 's' ? 1000 : 1);
      const planned = Math.min(4000, 1000 * 2 ** (Number(attempt) - 1));
      expect(delay).toBeGreaterThanOrEqual(planned * 0.75 - 500);
      expect(delay).toBeLessThanOrEqual(Math.min(4000, planned * 1.25) + 500);
    }
    expect(Number(seen[2][1])).toBeGreaterThanOrEqual(3);
    expect(running.child.exitCode).toBeNull();

    ca = await serveCli(['--config', configFile, '--listen', `127.0.0.1:${port}`]);
    const before = [...running.output().matchAll(RENEWED)].length;
    const after = await running.waitForCount(RENEWED, before + 1, 30_000);
    const recovered = after[after.length - 1][1];
    expect(opensslVerify(readFileSync(path('certs/web.pem'), 'utf8'), path('ca/ca/root.pem'), path('certs/web-chain.pem')).ok).toBe(true);
    await until(() => serviceOutput.includes(`reloaded ${recovered}`), 'the service to reload after recovery');
  }, 120_000);

  it('on SIGHUP keeps running when the config is broken, and takes it up once it is fixed', async () => {
    const running = agent!;
    const file = path('agent.yaml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, `${good}bogus_key: 1\n`);
    running.child.kill('SIGHUP');
    await running.waitForCount(/kept the running agent; .*agent\.yaml has errors:\n.*agent\.yaml:\d+:\d+: bogus_key/g, 1, 10_000);
    expect(running.child.exitCode).toBeNull();
    writeFileSync(file, good);
    running.child.kill('SIGHUP');
    await running.waitForCount(/mayfly: reloaded .*agent\.yaml/g, 1, 10_000);
    expect(running.child.exitCode).toBeNull();
    // The reloaded agent goes on renewing.
    const before = [...running.output().matchAll(RENEWED)].length;
    await running.waitForCount(RENEWED, before + 1, 45_000);
  }, 60_000);

  it('stops on SIGTERM with exit 0', async () => {
    expect(await agent!.stop()).toBe(0);
    agent = undefined;
  });
});
