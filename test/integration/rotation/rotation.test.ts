import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, serveCli, type ServingCli } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';
import { httpsRequest } from '../../helpers/mayfly';
import { makeCsr, opensslVerify } from '../../helpers/openssl';

// `mayfly ca rotate` against a running `mayfly serve` (HTTPS, its own server certificate), with the
// real CLI and OpenSSL: the overlap an operator goes through, step by step.

const TODAY = new Date().toISOString().slice(0, 10);
const blocks = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];

describe('CA rotation on a running server', () => {
  let dir: string;
  let config: string;
  let secret: string;
  let mayfly: ServingCli;
  const file = (name: string) => join(dir, name);
  const rootFile = () => file('ca/root.pem');
  const oldChain = () => file('ca/intermediate.pem');
  const newChain = () => file(`ca/intermediate-${TODAY}.pem`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-rotation-'));
    expect((await runCliInProcess(['init', '--dir', dir])).code).toBe(0);
    config = file('mayfly.yaml');
    secret = /secret=(.*)/.exec(readFileSync(file('dev-credentials'), 'utf8'))![1];
    // A renewal RA: a certificate renews itself over mTLS (default trust: Mayfly's own chains).
    const yaml = readFileSync(config, 'utf8');
    const policy = yaml.slice(yaml.indexOf('    valid_hours:'));
    writeFileSync(config, yaml.replace('authentication:\n', 'authentication:\n  renewers:\n    backend: mtls\n') + `  renew:\n    authentication: renewers\n    signing_ca: local\n${policy}`, { mode: 0o600 });
    mayfly = await serveCli(['--config', config, '--listen', '127.0.0.1:0']);
  });
  afterAll(async () => {
    await mayfly.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const root = () => readFileSync(rootFile(), 'utf8');
  const sign = async (ra: string, client?: { cert: string; key: string }): Promise<{ status: number; cert: string; key: string }> => {
    const csr = makeCsr();
    const answer = await httpsRequest(`${mayfly.url}/v1/sign/${ra}`, {
      ca: root(),
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...(client ? {} : { Authorization: `Basic ${Buffer.from(`deployer:${secret}`).toString('base64')}` }) },
      body: JSON.stringify({ csr: csr.pem }),
      ...(client ? { cert: client.cert, key: client.key } : {}),
    });
    return { status: answer.status, cert: answer.status === 200 ? (JSON.parse(answer.body) as { certificate: string }).certificate : answer.body, key: csr.keyPem };
  };
  const servedCa = async (json: boolean) => {
    const answer = await httpsRequest(`${mayfly.url}/v1/ca/default`, { ca: root(), headers: json ? { Accept: 'application/json' } : {} });
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const reloaded = async (action: () => void) => {
    const before = (mayfly.output().match(/Reloaded /g) ?? []).length;
    action();
    await mayfly.waitFor(new RegExp(`(?:[\\s\\S]*?Reloaded ){${before + 1}}`));
  };

  /** Issued before the rotation, by the intermediate `mayfly init` made. */
  let before: { status: number; cert: string; key: string };

  it('serves one chain before any rotation', async () => {
    before = await sign('default');
    expect(before.status).toBe(200);
    expect(blocks(await servedCa(false))).toHaveLength(2);
    expect(JSON.parse(await servedCa(true))).toEqual({ chain: blocks(readFileSync(oldChain(), 'utf8')), previous_chains: [] });
  });

  it('refuses, exit 1 and nothing written: an unknown signing CA, a root key others can read, a missing root key', () => {
    const files = () => readdirSync(file('ca')).sort();
    const listed = files();
    const unknown = runCli(['ca', 'rotate', '--signing-ca', 'hsm', '--config', config]);
    expect([unknown.status, unknown.stderr]).toEqual([1, `mayfly: no signing_ca named "hsm" in ${config} (defined: local)\n`]);
    chmodSync(file('ca/root.key'), 0o644);
    try {
      const exposed = runCli(['ca', 'rotate', '--signing-ca', 'local', '--config', config]);
      expect(exposed.status).toBe(1);
      expect(exposed.stderr).toContain(`the root key ${file('ca/root.key')} is readable or writable by others (mode 644); it must be mode 0600`);
      expect(exposed.stderr + exposed.stdout).not.toContain('PRIVATE KEY');
    } finally {
      chmodSync(file('ca/root.key'), 0o600);
    }
    const missing = runCli(['ca', 'rotate', '--signing-ca', 'local', '--config', config, '--root-key', file('ca/offline-root.key')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`the root key ${file('ca/offline-root.key')} does not exist`);
    expect(files()).toEqual(listed);
  });

  it('rotates with the CLI; the running server picks the new CA up by itself and issues from it', async () => {
    const rootKey = readFileSync(file('ca/root.key'), 'utf8');
    let rotation!: ReturnType<typeof runCli>;
    await reloaded(() => {
      rotation = runCli(['ca', 'rotate', '--signing-ca', 'local', '--config', config]);
    });
    expect(rotation.stderr).toBe('');
    expect(rotation.status).toBe(0);
    expect(rotation.stdout).toContain(`certificate chain: ${newChain()}`);
    expect(rotation.stdout).toMatch(/After \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(24h, the longest certificate lifetime of the RAs that use it: default\), remove ca\/intermediate\.pem from previous_certs and reload/);
    expect(rotation.stdout).not.toContain('PRIVATE KEY');
    expect(rotation.stdout).not.toContain(rootKey.split('\n')[1]);
    expect(statSync(file('ca/root.key')).mode & 0o777).toBe(0o600);
    expect(statSync(file(`ca/intermediate-${TODAY}.key`)).mode & 0o777).toBe(0o600);

    const after = await sign('default');
    expect(after.status).toBe(200);
    // OpenSSL: issued after the rotation → root + new intermediate; before → root + old intermediate.
    expect(opensslVerify(after.cert, rootFile(), newChain())).toMatchObject({ ok: true });
    expect(opensslVerify(after.cert, rootFile(), oldChain()).ok).toBe(false);
    expect(opensslVerify(before.cert, rootFile(), oldChain())).toMatchObject({ ok: true });
    expect(opensslVerify(before.cert, rootFile(), newChain()).ok).toBe(false);
    expect(new X509Certificate(after.cert).issuer).toBe(`CN=Mayfly Development Issuing CA ${TODAY}`);
  });

  it('serves the current chain first and the previous one after it, as PEM and as JSON', async () => {
    const [newIssuing, newRoot] = blocks(readFileSync(newChain(), 'utf8'));
    const [oldIssuing, oldRoot] = blocks(readFileSync(oldChain(), 'utf8'));
    expect(newRoot).toBe(oldRoot);
    const pem = await servedCa(false);
    expect(blocks(pem)).toEqual([newIssuing, newRoot, oldIssuing]);
    expect(JSON.parse(await servedCa(true))).toEqual({ chain: [newIssuing, newRoot], previous_chains: [[oldIssuing, oldRoot]] });
    // What a client fetches is enough to verify certificates from either intermediate.
    const bundle = file('served.pem');
    writeFileSync(bundle, pem);
    expect(opensslVerify(before.cert, rootFile(), bundle)).toMatchObject({ ok: true });
    expect(opensslVerify((await sign('default')).cert, rootFile(), bundle)).toMatchObject({ ok: true });
  });

  it('lets a certificate from the old intermediate renew over mTLS during the overlap, from the new one', async () => {
    const renewed = await sign('renew', before);
    expect(renewed.status).toBe(200);
    expect(opensslVerify(renewed.cert, rootFile(), newChain())).toMatchObject({ ok: true });
    // The renewed certificate renews in turn.
    expect((await sign('renew', renewed)).status).toBe(200);
  });

  it('after the overlap, the entry removed and SIGHUP sent: one chain served, the old certificate no longer renews', async () => {
    const yaml = readFileSync(config, 'utf8');
    expect(yaml).toMatch(/ {4}previous_certs:\n {6}- ca\/intermediate\.pem # replaced \S+; remove after \S+\n/);
    await reloaded(() => {
      writeFileSync(config, yaml.replace(/ {4}previous_certs:\n.*\n/, ''), { mode: 0o600 });
      mayfly.child.kill('SIGHUP');
    });
    expect(blocks(await servedCa(false))).toEqual(blocks(readFileSync(newChain(), 'utf8')));
    expect((await sign('renew', before)).status).toBe(401);
    // The backup the rotation kept is the config as it was before.
    const backups = readdirSync(dir).filter((name) => /^mayfly\.yaml\.\d{8}T\d{6}Z\.bak$/.test(name));
    expect(backups).toHaveLength(1);
    expect(readFileSync(file(backups[0]), 'utf8')).toContain('    cert: ca/intermediate.pem\n');
    expect(existsSync(oldChain())).toBe(true);
  });
});
