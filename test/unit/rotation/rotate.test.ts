import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rotateSigningCa, type RotateOptions } from '../../../src/cli/ca';
import { initDataDir } from '../../../src/cli/init';
import { assembleRuntime } from '../../../src/config/assemble';
import { loadConfig } from '../../../src/config/load';

// `mayfly ca rotate` in-process, on data folders made by `mayfly init`.

const NOW = new Date();
const TODAY = NOW.toISOString().slice(0, 10);

interface DataDir {
  readonly dir: string;
  readonly config: string;
  /** Every file of the folder and its bytes, to show what a refusal left alone. */
  snapshot(): Record<string, string>;
}

const dirs: string[] = [];
async function dataDir(keyType: 'p256' | 'p384' | 'rsa2048' | 'ed25519' = 'p256'): Promise<DataDir> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-rotate-'));
  dirs.push(dir);
  await initDataDir(dir, keyType);
  const list = (folder: string): string[] => readdirSync(join(dir, folder), { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? list(join(folder, entry.name)) : [join(folder, entry.name)]));
  return {
    dir,
    config: join(dir, 'mayfly.yaml'),
    snapshot: () => Object.fromEntries(list('.').map((file) => [file, readFileSync(join(dir, file), 'base64')])),
  };
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function rotate(data: DataDir, options: Partial<RotateOptions> = {}, env: NodeJS.ProcessEnv = {}): Promise<{ output: string; result: Awaited<ReturnType<typeof rotateSigningCa>> }> {
  const lines: string[] = [];
  const result = await rotateSigningCa({ config: data.config, signingCa: 'local', days: 365, editConfig: true, ...options }, (line) => lines.push(line), env, NOW);
  return { output: lines.join('\n'), result };
}

async function refusal(data: DataDir, options: Partial<RotateOptions> = {}): Promise<string> {
  const before = data.snapshot();
  const error = await rotate(data, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  // Nothing written, nothing changed.
  expect(data.snapshot()).toEqual(before);
  return (error as Error).message;
}

const pemCount = (text: string) => (text.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;

describe('mayfly ca rotate (local)', () => {
  it('writes a new key (0600) and chain beside the old ones, issued by the same root, and switches the config', async () => {
    const data = await dataDir();
    const before = data.snapshot();
    const rootKeyBefore = readFileSync(join(data.dir, 'ca', 'root.key'), 'utf8');
    const { output, result } = await rotate(data);

    expect(result.certFile).toBe(join(data.dir, 'ca', `intermediate-${TODAY}.pem`));
    expect(result.keyFile).toBe(join(data.dir, 'ca', `intermediate-${TODAY}.key`));
    expect(statSync(result.keyFile!).mode & 0o777).toBe(0o600);
    expect(statSync(result.certFile).mode & 0o777).toBe(0o644);
    // The old files and the root are untouched; the root key stays 0600.
    for (const file of ['ca/root.key', 'ca/root.pem', 'ca/intermediate.key', 'ca/intermediate.pem']) expect(readFileSync(join(data.dir, file), 'base64')).toBe(before[file]);
    expect(statSync(join(data.dir, 'ca', 'root.key')).mode & 0o777).toBe(0o600);

    const [issuing, root] = readFileSync(result.certFile, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((pem) => new X509Certificate(pem));
    const oldIssuing = new X509Certificate(readFileSync(join(data.dir, 'ca', 'intermediate.pem')));
    expect(root.raw.equals(new X509Certificate(readFileSync(join(data.dir, 'ca', 'root.pem'))).raw)).toBe(true);
    expect(issuing.checkIssued(root) && issuing.verify(root.publicKey)).toBe(true);
    expect(issuing.ca).toBe(true);
    expect(issuing.subject).toBe(`CN=Mayfly Development Issuing CA ${TODAY}`);
    expect(issuing.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(issuing.publicKey.export({ format: 'der', type: 'spki' }).equals(oldIssuing.publicKey.export({ format: 'der', type: 'spki' }))).toBe(false);
    expect(Date.parse(issuing.validTo) - NOW.getTime()).toBeGreaterThan(364 * 86_400_000);

    // The config: the new CA signs, the old chain is first of previous_certs, the old text kept in a backup.
    const runtime = await assembleRuntime(await loadConfig(data.config));
    const local = runtime.signingCas.get('local')!;
    expect(Buffer.from(local.chain[0]).equals(issuing.raw)).toBe(true);
    expect(local.previousChains.map((previous) => Buffer.from(previous.chain[0]).equals(oldIssuing.raw))).toEqual([true]);
    expect(local.servedChainPem).toBe(issuing.toString() + root.toString() + oldIssuing.toString());
    expect(readFileSync(result.backupFile!, 'utf8')).toBe(Buffer.from(before['mayfly.yaml'], 'base64').toString());
    expect(statSync(result.backupFile!).mode & 0o777).toBe(0o600);
    expect(statSync(data.config).mode & 0o777).toBe(0o600);

    // The root key is never shown; the output says when the old chain may go (24 h: the default RA's lifetime).
    expect(output).not.toContain('PRIVATE KEY');
    expect(output).not.toContain(rootKeyBefore.split('\n')[1]);
    expect(result.retireAfter.getTime() - NOW.getTime()).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(result.retireAfter.getTime() - NOW.getTime()).toBeLessThan(24 * 3_600_000 + 1000);
    expect(output).toContain(`After ${result.retireAfter.toISOString().replace('.000Z', 'Z')} (24h, the longest certificate lifetime of the RAs that use it: default), remove ca/intermediate.pem from previous_certs and reload`);
  });

  it('keeps every comment and every other line of the config as it was', async () => {
    const data = await dataDir();
    const original = readFileSync(data.config, 'utf8');
    await rotate(data);
    const rotated = readFileSync(data.config, 'utf8');
    const removed = original.split('\n').filter((line) => !rotated.split('\n').includes(line));
    const added = rotated.split('\n').filter((line) => !original.split('\n').includes(line));
    expect(removed).toEqual(['    cert: ca/intermediate.pem', '    key: ca/intermediate.key        # must be mode 0600; encrypted PKCS#8 works with key_passphrase_env']);
    expect(added).toEqual([
      `    cert: ca/intermediate-${TODAY}.pem`,
      `    key: ca/intermediate-${TODAY}.key        # must be mode 0600; encrypted PKCS#8 works with key_passphrase_env`,
      '    previous_certs:',
      expect.stringMatching(/^ {6}- ca\/intermediate\.pem # replaced \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; remove after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    ]);
  });

  it('rotates again: the new chain is dated, and the newest previous chain comes first', async () => {
    const data = await dataDir();
    await rotate(data);
    const { result } = await rotate(data, { out: join(data.dir, 'ca', 'issuing-2') });
    const local = (await assembleRuntime(await loadConfig(data.config))).signingCas.get('local')!;
    expect(local.previousChains.map((previous) => previous.file)).toEqual([join(data.dir, 'ca', `intermediate-${TODAY}.pem`), join(data.dir, 'ca', 'intermediate.pem')]);
    expect(pemCount(local.servedChainPem)).toBe(4); // new, root, two previous issuing certificates: the root once
    // The CN keeps one date, not one per rotation.
    expect(new X509Certificate(readFileSync(result.certFile)).subject).toBe(`CN=Mayfly Development Issuing CA ${TODAY}`);
  });

  it('makes a key of another type, and takes a subject, on request', async () => {
    const data = await dataDir('p256');
    const { result } = await rotate(data, { keyType: 'rsa2048', subject: '/CN=Acme Issuing CA 2/O=Acme' });
    const issuing = new X509Certificate(readFileSync(result.certFile));
    expect(issuing.publicKey.asymmetricKeyType).toBe('rsa');
    expect(issuing.subject).toBe('CN=Acme Issuing CA 2\nO=Acme');
    expect((await assembleRuntime(await loadConfig(data.config))).signingCas.get('local')!.signer.description).toBe('local RSA 2048');
  });

  it('defaults to the type of the key it replaces (Ed25519 here)', async () => {
    const data = await dataDir('ed25519');
    const { result } = await rotate(data);
    expect(new X509Certificate(readFileSync(result.certFile)).publicKey.asymmetricKeyType).toBe('ed25519');
  });

  it('encrypts the new key with the passphrase of the key it replaces', async () => {
    const data = await dataDir();
    writeFileSync(data.config, readFileSync(data.config, 'utf8').replace('    key: ca/intermediate.key', '    key_passphrase_env: MAYFLY_TEST_CA_PASSPHRASE\n    key: ca/intermediate.key'), { mode: 0o600 });
    await expect(rotate(data)).rejects.toThrow('set MAYFLY_TEST_CA_PASSPHRASE: the new key is encrypted with the same passphrase as the one it replaces');
    const { result } = await rotate(data, {}, { MAYFLY_TEST_CA_PASSPHRASE: 'correct horse' });
    expect(readFileSync(result.keyFile!, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  });

  it('with --no-edit-config writes only the key and certificate and prints the change', async () => {
    const data = await dataDir();
    const config = readFileSync(data.config, 'utf8');
    const { output, result } = await rotate(data, { editConfig: false });
    expect(readFileSync(data.config, 'utf8')).toBe(config);
    expect(result.backupFile).toBeUndefined();
    expect(existsSync(result.keyFile!)).toBe(true);
    expect(output).toContain(`Make this change to signing_ca.local in ${data.config}, then reload (SIGHUP):\n    cert: ca/intermediate-${TODAY}.pem\n    key: ca/intermediate-${TODAY}.key\n    previous_certs: [ca/intermediate.pem]   # replaced `);
  });

  describe('refusals, each leaving every file as it was', () => {
    it('an unknown signing CA', async () => {
      const data = await dataDir();
      expect(await refusal(data, { signingCa: 'nope' })).toBe(`no signing_ca named "nope" in ${data.config} (defined: local)`);
    });

    it('a missing root key', async () => {
      const data = await dataDir();
      rmSync(join(data.dir, 'ca', 'root.key'));
      expect(await refusal(data)).toMatch(new RegExp(`^the root key ${join(data.dir, 'ca', 'root.key')} does not exist; .*give its place with --root-key$`));
    });

    it('a root key readable by others, without showing it', async () => {
      const data = await dataDir();
      chmodSync(join(data.dir, 'ca', 'root.key'), 0o644);
      const message = await refusal(data);
      expect(message).toBe(`the root key ${join(data.dir, 'ca', 'root.key')} is readable or writable by others (mode 644); it must be mode 0600: run chmod 600 on it, and consider whether it leaked`);
      chmodSync(join(data.dir, 'ca', 'root.key'), 0o640);
      expect(await refusal(data)).toContain('(mode 640)');
    });

    it('a root that did not issue the current CA', async () => {
      const data = await dataDir();
      const other = await dataDir();
      const message = await refusal(data, { rootCert: join(other.dir, 'ca', 'root.pem'), rootKey: join(other.dir, 'ca', 'root.key') });
      expect(message).toBe(`the current issuing certificate in ${join(data.dir, 'ca', 'intermediate.pem')} is not issued by the root ${join(other.dir, 'ca', 'root.pem')}; rotation keeps the root, so give the --root-cert and --root-key that issued it`);
    });

    it('a root key that does not match the root certificate', async () => {
      const data = await dataDir();
      expect(await refusal(data, { rootKey: join(data.dir, 'ca', 'intermediate.key') })).toBe(`the key (local EC P-256) does not match the certificate in ${join(data.dir, 'ca', 'root.pem')}`);
    });

    it('a file already in the way: never overwritten', async () => {
      const data = await dataDir();
      writeFileSync(join(data.dir, 'ca', `intermediate-${TODAY}.key`), 'someone else’s key\n', { mode: 0o600 });
      expect(await refusal(data)).toBe(`${join(data.dir, 'ca', `intermediate-${TODAY}.key`)} already exists; nothing was written (rotation never overwrites a file: give --out PREFIX for other names)`);
    });

    it('a key type a token cannot hold, for a pkcs11 CA (before touching the token)', async () => {
      const data = await dataDir();
      writeFileSync(
        data.config,
        readFileSync(data.config, 'utf8').replace('signing_ca:\n', 'signing_ca:\n  hsm:\n    backend: pkcs11\n    module: /nonexistent/libpkcs11.so\n    token_label: t\n    key_label: k\n    pin_env: NO_SUCH_PIN\n    cert: ca/intermediate.pem\n'),
        { mode: 0o600 },
      );
      expect(await refusal(data, { signingCa: 'hsm', keyType: 'ed25519' })).toBe('a key in a PKCS#11 token is one of p256, p384, rsa2048, rsa3072, not ed25519; choose one with --key-type');
    });
  });
});
