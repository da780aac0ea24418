import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverNames } from '../../../src/http/server_certificate';
import { serveCli, type ServingCli } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';

// bin/mayfly-healthcheck, the Dockerfile's HEALTHCHECK, against a real `mayfly serve` over HTTPS:
// it trusts $MAYFLY_HOME/ca/root.pem as the image's default config does.

const HEALTHCHECK = join(__dirname, '..', '..', '..', 'bin', 'mayfly-healthcheck');

describe('bin/mayfly-healthcheck', () => {
  let home: string;
  let other: string;
  let mayfly: ServingCli;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mayfly-health-'));
    other = mkdtempSync(join(tmpdir(), 'mayfly-health-other-'));
    expect((await runCliInProcess(['init', '--dir', other])).code).toBe(0);
    // As in the container: a fresh MAYFLY_HOME, `mayfly serve` creates the CA and serves HTTPS.
    mayfly = await serveCli(['--listen', '127.0.0.1:0'], { env: { MAYFLY_HOME: home } });
  });
  afterAll(async () => {
    await mayfly.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  });

  const check = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [HEALTHCHECK], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 20_000 });

  it('exits 0 when /readyz answers 200, verifying the server against $MAYFLY_HOME/ca/root.pem', () => {
    const result = check({ MAYFLY_HOME: home, MAYFLY_HEALTHCHECK_URL: `${mayfly.url}/readyz` });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/readyz: 200 \{"ready":true,/);
  });

  it('exits 1 on any other status, printing it', () => {
    const result = check({ MAYFLY_HOME: home, MAYFLY_HEALTHCHECK_URL: `${mayfly.url}/v1/ca/nope` });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/: 404 /);
  });

  it('exits 1 when the server’s certificate does not chain to the root it trusts', () => {
    const result = check({ MAYFLY_HOME: other, MAYFLY_HEALTHCHECK_URL: `${mayfly.url}/readyz` });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/certificate/);
    expect(check({ MAYFLY_HOME: join(other, 'missing'), MAYFLY_HEALTHCHECK_URL: `${mayfly.url}/readyz` }).stderr).toMatch(/^cannot read the CA file .*missing\/ca\/root\.pem/);
  });

  it('its default address verifies against the certificate a 0.0.0.0 listener gets (IP 127.0.0.1 among its names)', () => {
    expect(serverNames('0.0.0.0', []).ipAddresses).toContain('127.0.0.1');
  });

  it('exits 1 once the server has stopped', async () => {
    const url = `${mayfly.url}/readyz`;
    await mayfly.stop();
    const result = check({ MAYFLY_HOME: home, MAYFLY_HEALTHCHECK_URL: url });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ECONNREFUSED');
  });
});
