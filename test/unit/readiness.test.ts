import { generateKeyPairSync } from 'node:crypto';
import { disabledLedger } from '../../src/audit/ledger';
import type { Runtime } from '../../src/config/assemble';
import { Readiness } from '../../src/http/readiness';
import type { Signer } from '../../src/signers/signer';
import type { SigningCa } from '../../src/signers/signing_ca';
import { LocalSigner } from '../../src/signers/local';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A signer that answers after `delayMs`, or fails then: a slow token, a token gone. */
function signerAnswering(real: Signer, delayMs: number, failure?: string): Signer {
  return {
    signatureAlgorithm: real.signatureAlgorithm,
    publicKey: real.publicKey,
    description: 'test',
    sign: (tbs) => new Promise((resolve, reject) => setTimeout(() => (failure ? reject(new Error(failure)) : resolve(real.sign(tbs))), delayMs)),
  };
}

const runtimeWith = (signers: Record<string, Signer>): Runtime =>
  ({
    registrationAuthorities: new Map([['default', {}]]),
    signingCas: new Map(Object.entries(signers).map(([name, signer]) => [name, { name, signer } as unknown as SigningCa])),
  }) as unknown as Runtime;

describe('Readiness', () => {
  let dir: string;
  let local: LocalSigner;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-readiness-'));
    const keyFile = join(dir, 'ca.key');
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    local = await LocalSigner.load({ keyFile });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a signer that fails while an earlier one is still signing, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const readiness = new Readiness(() => runtimeWith({ slow: signerAnswering(local, 200), gone: signerAnswering(local, 10, 'the token is gone') }), disabledLedger);
      const report = await readiness.check();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(report).toEqual({ ready: false, failing: ['signer gone'], checks: { config: 'ok', 'signer slow': 'ok', 'signer gone': 'the token is gone', ledger: 'ok' } });
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('reports a signature that does not verify under the CA key', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
    const wrongKey: Signer = { ...local, publicKey: other, sign: (tbs) => local.sign(tbs) };
    const report = await new Readiness(() => runtimeWith({ wrong: wrongKey }), disabledLedger).check();
    expect(report.checks['signer wrong']).toBe('the test signature does not verify');
  });

  it('shares one probe among callers while it runs, and starts a new one a second after it ended', async () => {
    let signatures = 0;
    const counting: Signer = { ...local, publicKey: local.publicKey, signatureAlgorithm: local.signatureAlgorithm, description: 'counting', sign: (tbs) => ((signatures += 1), signerAnswering(local, 300).sign(tbs)) };
    const readiness = new Readiness(() => runtimeWith({ counting }), disabledLedger);
    await Promise.all([readiness.check(), readiness.check(), readiness.check()]);
    await readiness.check();
    expect(signatures).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await readiness.check();
    expect(signatures).toBe(2);
  });
});
