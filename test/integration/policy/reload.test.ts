import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, serveCli, servePlainHttp, type ServingCli } from '../../helpers/cli';
import { makeCsr } from '../../helpers/openssl';

describe('hot reload of the config', () => {
  let dir: string;
  let config: string;
  let secret: string;
  let mayfly: ServingCli;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-reload-'));
    expect(runCli(['init', '--dir', dir]).status).toBe(0);
    config = join(dir, 'mayfly.yaml');
    servePlainHttp(config);
    secret = /secret=(.*)/.exec(readFileSync(join(dir, 'dev-credentials'), 'utf8'))![1];
    mayfly = await serveCli(['--config', config, '--listen', '127.0.0.1:0']);
  });
  afterAll(async () => {
    await mayfly.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sign = (pem: string) =>
    fetch(`${mayfly.url}/v1/sign/default`, { method: 'POST', body: new URLSearchParams({ user: 'deployer', secret, encoding: 'pem', csr: pem }) });
  const exampleOrg = makeCsr({ subject: '/CN=svc.example.org', extensions: ['subjectAltName=DNS:svc.example.org'] });
  const mayflyTest = makeCsr();

  /** Writes the config the way editors do: a temp file renamed over the old one. */
  const writeConfig = (text: string) => {
    writeFileSync(`${config}.tmp`, text, { mode: 0o600 });
    renameSync(`${config}.tmp`, config);
  };

  it('applies a valid change while serving, and keeps answering throughout', async () => {
    expect((await sign(exampleOrg.pem)).status).toBe(403);
    // Requests keep flowing while the file changes and the new config is swapped in.
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) statuses.push((await sign(mayflyTest.pem)).status);
    })();
    const reloads = (mayfly.output().match(/Reloaded /g) ?? []).length;
    writeConfig(readFileSync(config, 'utf8').replace(/allowed_domains: \[".mayfly.test"\]/g, 'allowed_domains: [".mayfly.test", ".example.org"]'));
    await mayfly.waitFor(new RegExp(`(?:[\\s\\S]*?Reloaded ){${reloads + 1}}`));
    stop = true;
    await traffic;
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect((await sign(exampleOrg.pem)).status).toBe(200);
  });

  it('refuses a broken config with file:line and keeps the old policy in force', async () => {
    const good = readFileSync(config, 'utf8');
    writeConfig(good.replace('valid_hours: 24', 'valid_hours: 24\n    bogus_key: 1'));
    const line = good.split('\n').findIndex((l) => l.includes('valid_hours: 24')) + 2;
    await mayfly.waitFor(new RegExp(`Refused the changed config; the previous one stays in force:\\n${config.replace(/[.]/g, '\\.')}:${line}:\\d+: registration_authority\\.default\\.bogus_key: unknown key`));
    expect((await sign(exampleOrg.pem)).status).toBe(200);
    expect((await sign(mayflyTest.pem)).status).toBe(200);
    writeConfig(good);
  });

  it('reloads on SIGHUP', async () => {
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the previous write's reload settle
    const reloads = (mayfly.output().match(/Reloaded /g) ?? []).length;
    mayfly.child.kill('SIGHUP');
    await mayfly.waitFor(new RegExp(`(?:[\\s\\S]*?Reloaded ){${reloads + 1}}`));
    expect((await sign(mayflyTest.pem)).status).toBe(200);
  });
});
