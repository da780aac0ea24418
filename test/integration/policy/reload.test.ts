import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, serveCli, servePlainHttp, type ServingCli } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';
import { freePort } from '../../helpers/free_port';
import { makeCsr } from '../../helpers/openssl';

/** The server's output as log records; JSON.parse throws on a line that is not one. */
const logRecords = (output: string): { level: number; msg: string; [field: string]: unknown }[] =>
  output.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));

describe('hot reload of the config', () => {
  let dir: string;
  let config: string;
  let secret: string;
  let mayfly: ServingCli;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-reload-'));
    expect((await runCliInProcess(['init', '--dir', dir])).code).toBe(0);
    config = join(dir, 'mayfly.yaml');
    servePlainHttp(config);
    // A token backend too, whose tokens file a test deletes while serving.
    writeFileSync(config, readFileSync(config, 'utf8').replace('authentication:\n', 'authentication:\n  tokens:\n    backend: token\n    tokens_file: tokens.yaml\n'), { mode: 0o600 });
    expect(runCli(['token', 'create', '--auth', 'tokens', '--config', config]).status).toBe(0);
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
  /** One sample's value from /metrics (served with the API: the server started without metrics_listen). */
  const metric = async (sample: string): Promise<number | undefined> => {
    const text = await (await fetch(`${mayfly.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
    return line === undefined ? undefined : Number(line.slice(sample.length + 1));
  };

  /** Writes the config the way editors do: a temp file renamed over the old one. */
  const writeConfig = (text: string) => {
    writeFileSync(`${config}.tmp`, text, { mode: 0o600 });
    renameSync(`${config}.tmp`, config);
  };
  /** Does `change` and waits until the server has logged one more successful reload. */
  const afterReload = async (change: () => void) => {
    const reloads = (mayfly.output().match(/"msg":"Reloaded /g) ?? []).length;
    change();
    await mayfly.waitFor(new RegExp(`(?:[\\s\\S]*?"msg":"Reloaded ){${reloads + 1}}`), 30_000);
  };

  it('applies a valid change while serving, and keeps answering throughout', async () => {
    expect((await sign(exampleOrg.pem)).status).toBe(403);
    // Requests keep flowing while the file changes and the new config is swapped in.
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) statuses.push((await sign(mayflyTest.pem)).status);
    })();
    await afterReload(() => writeConfig(readFileSync(config, 'utf8').replace(/allowed_domains: \[".mayfly.test"\]/g, 'allowed_domains: [".mayfly.test", ".example.org"]')));
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
    await mayfly.waitFor(/Refused the changed config/);
    // One JSON log record, the problems as a list: nothing plain-text mixed into the log.
    const refused = logRecords(mayfly.output()).find((record) => record.msg === 'Refused the changed config; the previous one stays in force')!;
    expect(refused.level).toBe(50);
    expect(refused.problems).toEqual([expect.stringMatching(new RegExp(`^${config.replace(/[.]/g, '\\.')}:${line}:\\d+: registration_authority\\.default\\.bogus_key: unknown key`))]);
    expect((await sign(exampleOrg.pem)).status).toBe(200);
    expect((await sign(mayflyTest.pem)).status).toBe(200);
    expect(await metric('mayfly_config_reload_failures_total')).toBe(1);
    // The next test starts from the good config in force.
    await afterReload(() => writeConfig(good));
  });

  it('says which changed settings need a restart, in the log and in a metric, instead of a bare "Reloaded"', async () => {
    const good = readFileSync(config, 'utf8');
    const opsPort = await freePort();
    writeConfig(good.replace(/^server:\n/m, `server:\n  metrics_listen: 127.0.0.1:${opsPort}\n  log_level: warn\n`));
    await mayfly.waitFor(/restart required for: /);
    const record = logRecords(mayfly.output()).find((line) => /restart required for/.test(line.msg))!;
    expect(record.level).toBe(40);
    expect(record.restart_required).toEqual(['server.log_level', 'server.metrics_listen']);
    expect(record.msg).toContain('restart required for: server.log_level, server.metrics_listen');
    expect(await metric('mayfly_config_restart_required{setting="server.metrics_listen"}')).toBe(1);
    expect(await metric('mayfly_config_restart_required{setting="server.log_level"}')).toBe(1);
    // Nothing listens there until a restart: the log said so rather than pretending.
    await expect(fetch(`http://127.0.0.1:${opsPort}/metrics`)).rejects.toThrow();
    // Policy in the same file still applies at once; putting the settings back clears the gauge.
    await afterReload(() => writeConfig(good));
    expect(await metric('mayfly_config_restart_required{setting="server.metrics_listen"}')).toBeUndefined();
  }, 60_000);

  it('reloads on SIGHUP', async () => {
    await afterReload(() => mayfly.child.kill('SIGHUP'));
    expect((await sign(mayflyTest.pem)).status).toBe(200);
  });

  it('logs a deleted tokens file as a JSON warning, not as plain text on stderr', async () => {
    rmSync(join(dir, 'tokens.yaml'));
    await mayfly.waitFor(/MAYFLY_WATCHED_FILE_MISSING/);
    const warning = logRecords(mayfly.output()).find((line) => line.code === 'MAYFLY_WATCHED_FILE_MISSING')!;
    expect(warning.level).toBe(40);
    expect(warning.msg).toContain(`${join(dir, 'tokens.yaml')} cannot be read; it counts as empty`);
    expect(mayfly.output()).not.toMatch(/\(node:\d+\)/);
  });
});
