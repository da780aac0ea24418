import { chmodSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { createPublicKey, pbkdf2, verify, type X509Certificate } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { localSigningCa, WORKERS_ENV } from '../../src/config/signing_ca/local';
import { LocalSigner } from '../../src/signers/local';
import { SignerConfigError, type Signer } from '../../src/signers/signer';
import { openssl } from '../helpers/openssl';
import { toHex } from './support/asn1';
import { generateKey, type GenpkeyType } from './support/csr';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mayfly-unit-signer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** Writes `content` to a new file in the temp folder with exactly `mode`, whatever the umask. */
function keyFile(content: string, mode = 0o600): string {
  const file = join(dir, `key-${files++}.pem`);
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  return file;
}

/** The SignerConfigError message LocalSigner.load rejects with; fails on any other outcome. */
async function refusal(options: Parameters<typeof LocalSigner.load>[0]): Promise<string> {
  try {
    await LocalSigner.load(options);
  } catch (error) {
    if (error instanceof SignerConfigError) return error.message;
    throw new Error(`expected a SignerConfigError, got ${String(error)}`);
  }
  throw new Error('expected a SignerConfigError, the key loaded');
}

describe('LocalSigner.load: CA keys it signs with', () => {
  it.each<[GenpkeyType, string, string, string | null]>([
    ['p256', 'local EC P-256', '300a06082a8648ce3d040302', 'sha256'],
    ['p384', 'local EC P-384', '300a06082a8648ce3d040303', 'sha384'],
    ['p521', 'local EC P-521', '300a06082a8648ce3d040304', 'sha512'],
    ['rsa2048', 'local RSA 2048', '300d06092a864886f70d01010b0500', 'sha256'],
    ['ed25519', 'local Ed25519', '300506032b6570', null],
  ])('loads a %s key: %s, its AlgorithmIdentifier and a signature Node verifies', async (type, description, algorithmIdentifier, digest) => {
    const pem = generateKey(type);
    const signer = await LocalSigner.load({ keyFile: keyFile(pem) });
    expect(signer.description).toBe(description);
    expect(toHex(signer.signatureAlgorithm)).toBe(algorithmIdentifier);
    expect(toHex(signer.publicKey)).toBe(openssl(['pkey', '-pubout', '-outform', 'DER'], pem).toString('hex'));
    const tbs = Buffer.from('to be signed');
    const signature = await signer.sign(tbs);
    const publicKey = createPublicKey(pem);
    expect(verify(digest, tbs, publicKey, signature)).toBe(true);
    expect(verify(digest, Buffer.from('to be signeD'), publicKey, signature)).toBe(false);
  });

  it('writes ECDSA signatures in DER (X.509), not IEEE P1363', async () => {
    const signer = await LocalSigner.load({ keyFile: keyFile(generateKey('p256')) });
    const signature = await signer.sign(Buffer.from('tbs'));
    expect(signature[0]).toBe(0x30);
    expect(signature[1]).toBe(signature.length - 2);
  });

  it('loads a key file of mode 0400', async () => {
    await expect(LocalSigner.load({ keyFile: keyFile(generateKey('p256'), 0o400) })).resolves.toBeInstanceOf(LocalSigner);
  });

  it('loads a traditional-format (SEC1) EC key', async () => {
    const traditional = openssl(['pkey', '-traditional'], generateKey('p256')).toString();
    expect(traditional).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect((await LocalSigner.load({ keyFile: keyFile(traditional) })).description).toBe('local EC P-256');
  });

  it('loads an encrypted PKCS#8 key with its passphrase', async () => {
    const encrypted = openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:open sesame'], generateKey('p256')).toString();
    expect(encrypted).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect((await LocalSigner.load({ keyFile: keyFile(encrypted), passphrase: 'open sesame' })).description).toBe('local EC P-256');
  });
});

describe('LocalSigner.load: refusals, each a SignerConfigError', () => {
  it.each([
    [0o644, '644'],
    [0o640, '640'],
    [0o604, '604'],
    [0o660, '660'],
  ])('a key file others can read (mode %o)', async (mode, shown) => {
    const file = keyFile(generateKey('p256'), mode);
    expect(await refusal({ keyFile: file })).toBe(`the CA key file ${file} is readable by others (mode ${shown}); run chmod 600 on it`);
  });

  it('a key file that does not exist', async () => {
    const file = join(dir, 'missing.key');
    expect(await refusal({ keyFile: file })).toBe(`the CA key file ${file} cannot be read`);
  });

  it.each([
    ['a certificate', () => openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=x', '-days', '1']).toString()],
    ['a public key', () => openssl(['pkey', '-pubout'], generateKey('p256')).toString()],
    ['text', () => 'not a key\n'],
    ['an empty file', () => ''],
  ])('a file that is %s, not a private key', async (_, content) => {
    const file = keyFile(content());
    expect(await refusal({ keyFile: file })).toBe(`the CA key file ${file} is not a readable private key`);
  });

  it('an encrypted key with the wrong passphrase', async () => {
    const encrypted = openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:open sesame'], generateKey('p256')).toString();
    const file = keyFile(encrypted);
    expect(await refusal({ keyFile: file, passphrase: 'wrong' })).toBe(`the CA key file ${file} is not a readable private key (or the passphrase is wrong)`);
  });

  it('an RSA key of 1024 bits', async () => {
    expect(await refusal({ keyFile: keyFile(generateKey('rsa1024')) })).toBe('an RSA CA key must have at least 2048 bits, this one has 1024');
  });

  it('an EC key on a curve other than the NIST ones', async () => {
    expect(await refusal({ keyFile: keyFile(generateKey('secp256k1')) })).toBe('EC curve secp256k1 is not supported for a CA key; use P-256 or P-384');
  });

  it.each<[GenpkeyType, string]>([
    ['ed448', 'ed448'],
    ['rsaPss2048', 'rsa-pss'],
  ])('a %s key', async (type, shown) => {
    expect(await refusal({ keyFile: keyFile(generateKey(type)) })).toBe(`a ${shown} key cannot be a CA key; use EC P-256/P-384, RSA 2048–4096 or Ed25519`);
  });
});

describe('where an RSA key signs', () => {
  /** How many tasks that keep every thread of libuv's pool busy end before the signature does. */
  async function poolTasksBefore(signer: Signer, pem: string): Promise<number> {
    let done = 0;
    const busy = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, () => new Promise<void>((resolve) => pbkdf2('p', 's', 150_000, 32, 'sha256', () => ((done += 1), resolve()))));
    const tbs = Buffer.from('to be signed');
    const signature = await signer.sign(tbs);
    const before = done;
    expect(verify('sha256', tbs, createPublicKey(pem), signature)).toBe(true);
    await Promise.all(busy);
    return before;
  }

  /** The signer the config's `backend: local` opens, in a process whose environment is `env`. */
  const openedWith = (file: string, env: NodeJS.ProcessEnv) =>
    // The local backend does not use the certificate (signing_ca.ts checks the key against it).
    localSigningCa.open(localSigningCa.schema.parse({ backend: 'local', cert: 'ca.pem', key: file }), { configPath: (path) => path, issuing: undefined as unknown as X509Certificate, env });

  it('on the event loop when asked (never behind a busy libuv pool); in the pool otherwise', async () => {
    const pem = generateKey('rsa2048');
    const file = keyFile(pem);
    expect(await poolTasksBefore(await LocalSigner.load({ keyFile: file, onEventLoop: true }), pem)).toBe(0);
    expect(await poolTasksBefore(await LocalSigner.load({ keyFile: file }), pem)).toBeGreaterThan(0);
  });

  it('a worker of `serve --workers` with one worker on every core signs on the event loop; a single process, or fewer workers than cores, in the pool', async () => {
    const pem = generateKey('rsa2048');
    const file = keyFile(pem);
    const cores = availableParallelism();
    expect(await poolTasksBefore(await openedWith(file, { [WORKERS_ENV]: String(cores) }), pem)).toBe(0);
    expect(await poolTasksBefore(await openedWith(file, {}), pem)).toBeGreaterThan(0);
    if (cores > 1) expect(await poolTasksBefore(await openedWith(file, { [WORKERS_ENV]: String(cores - 1) }), pem)).toBeGreaterThan(0);
  });
});
