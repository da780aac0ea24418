import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rotateSigningCa } from '../../../src/cli/ca';
import { initDataDir } from '../../../src/cli/init';
import { assembleRuntime, releaseRuntime, type Runtime } from '../../../src/config/assemble';
import { ConfigError, loadConfig } from '../../../src/config/load';
import { createCaHierarchy } from '../../../src/issuance/ca_bootstrap';
import { issueCertificate } from '../../../src/issuance/certificate';
import { LocalSigner } from '../../../src/signers/local';
import { loadPreviousChain, loadSigningCa, type SigningCa } from '../../../src/signers/signing_ca';

// What `previous_certs` does once loaded: served after the chain, trusted for mTLS renewal,
// never used to sign; and how a wrong entry is reported.

let dir: string;
let config: string;
/** The CA `mayfly init` made, which the rotation replaced. */
let replaced: SigningCa;
const base = () => readFileSync(`${config}.base`, 'utf8');
const withConfig = (edit: (yaml: string) => string) => writeFileSync(config, edit(base()), { mode: 0o600 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mayfly-previous-'));
  await initDataDir(dir, 'p256');
  config = join(dir, 'mayfly.yaml');
  // An mtls entry with the default trust (Mayfly's own chains), and an RA that uses it.
  writeFileSync(config, readFileSync(config, 'utf8').replace('authentication:\n', 'authentication:\n  renewers:\n    backend: mtls\n'), { mode: 0o600 });
  replaced = await loadSigningCa('replaced', join(dir, 'ca', 'intermediate.pem'), () => LocalSigner.load({ keyFile: join(dir, 'ca', 'intermediate.key') }));
  await rotateSigningCa({ config, signingCa: 'local', days: 30, editConfig: true }, () => {});
  writeFileSync(`${config}.base`, readFileSync(config, 'utf8'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runtime(): Promise<Runtime> {
  return assembleRuntime(await loadConfig(config));
}

/** A client certificate for svc.mayfly.test issued by `ca`, DER. */
async function leafFrom(ca: SigningCa): Promise<Uint8Array> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issued = await issueCertificate(
    { subject: [{ type: '2.5.4.3', value: 'svc.mayfly.test' }], publicKey: { type: 'EC', curve: 'P-256', bits: 256, spki: publicKey.export({ format: 'der', type: 'spki' }), keyObject: publicKey }, names: { dnsNames: ['svc.mayfly.test'], ipAddresses: [] } },
    { validityMs: 3_600_000, backdateMs: 60_000, extKeyUsage: ['clientAuth'], subjectAttributes: [], allowUnderscores: false },
    ca,
  );
  return issued.der;
}

async function renews(leaf: Uint8Array): Promise<string | undefined> {
  const current = await runtime();
  try {
    const mtls = current.authenticators.find((entry) => entry.authenticator.name === 'renewers')!.authenticator;
    return (await mtls.authenticate({ clientCertificates: [leaf] }))?.user;
  } finally {
    releaseRuntime(current);
  }
}

describe('previous_certs', () => {
  it('serves the replaced chain after the new one, each certificate once, and signs only with the new key', async () => {
    const local = (await runtime()).signingCas.get('local')!;
    const [issuing, root] = local.chain.map((der) => new X509Certificate(der));
    expect(local.previousChains).toHaveLength(1);
    expect(local.previousChains[0].file).toBe(join(dir, 'ca', 'intermediate.pem'));
    expect(local.previousChains[0].pems).toEqual(replaced.chain.map((der) => new X509Certificate(der).toString()));
    expect(local.servedChainPem).toBe(issuing.toString() + root.toString() + new X509Certificate(replaced.chain[0]).toString());
    expect(Buffer.from(local.signer.publicKey).equals(issuing.publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    const leaf = new X509Certificate(Buffer.from(await leafFrom(local)));
    expect(leaf.checkIssued(issuing) && leaf.verify(issuing.publicKey)).toBe(true);
  });

  it('lets a certificate from the replaced CA renew over mTLS during the overlap, and not once the entry is removed', async () => {
    const oldLeaf = await leafFrom(replaced);
    const newLeaf = await leafFrom((await runtime()).signingCas.get('local')!);
    expect(await renews(oldLeaf)).toBe('svc.mayfly.test');
    expect(await renews(newLeaf)).toBe('svc.mayfly.test');
    try {
      withConfig((yaml) => yaml.replace(/ {4}previous_certs:\n.*\n/, ''));
      expect((await runtime()).signingCas.get('local')!.previousChains).toEqual([]);
      expect(await renews(oldLeaf)).toBeUndefined();
      expect(await renews(newLeaf)).toBe('svc.mayfly.test');
    } finally {
      withConfig((yaml) => yaml);
    }
  });

  it('leaves out a chain whose issuing certificate has expired: nothing it issued can still be valid', async () => {
    const old = await createCaHierarchy('p256', 'Expired', new Date(Date.now() - 2 * 365 * 86_400_000));
    const file = join(dir, 'ca', 'expired.pem');
    writeFileSync(file, old.intermediate.certificate + old.root.certificate);
    expect(await loadPreviousChain(file)).toBeUndefined();
    try {
      withConfig((yaml) => yaml.replace('    previous_certs:\n', '    previous_certs:\n      - ca/expired.pem\n'));
      const local = (await runtime()).signingCas.get('local')!;
      expect(local.previousChains.map((previous) => previous.file)).toEqual([join(dir, 'ca', 'intermediate.pem')]);
    } finally {
      withConfig((yaml) => yaml);
    }
  });

  describe('a wrong entry stops the load, naming its line', () => {
    async function problem(edit: (yaml: string) => string): Promise<string> {
      withConfig(edit);
      try {
        const error = await runtime().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      } finally {
        withConfig((yaml) => yaml);
      }
    }
    const lineOf = (text: string, needle: string) => text.split('\n').findIndex((line) => line.includes(needle)) + 1;

    it('a file that cannot be read', async () => {
      const message = await problem((yaml) => yaml.replace('    previous_certs:\n', '    previous_certs:\n      - ca/missing.pem\n'));
      expect(message).toBe(`${config}:${lineOf(base(), '    previous_certs:') + 1}:9: signing_ca.local.previous_certs[0]: the certificate file ${join(dir, 'ca', 'missing.pem')} cannot be read`);
    });

    it('a file that is not a CA certificate', async () => {
      writeFileSync(join(dir, 'leaf.pem'), new X509Certificate(Buffer.from(await leafFrom(replaced))).toString());
      const message = await problem((yaml) => yaml.replace('      - ca/intermediate.pem', '      - leaf.pem'));
      expect(message).toMatch(/signing_ca\.local\.previous_certs\[0\]: the first certificate in .*leaf\.pem is not a CA certificate$/);
    });

    it('the current certificate listed as previous', async () => {
      const message = await problem((yaml) => yaml.replace('      - ca/intermediate.pem', `      - ${/    cert: (\S+)/.exec(yaml)![1]}`));
      expect(message).toMatch(/signing_ca\.local: previous_certs lists .*, which holds the current issuing certificate; list only certificates it replaced$/);
    });
  });
});
