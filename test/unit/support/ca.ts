// A real issuing CA for unit tests: createCaHierarchy's keys and certificates written to a temp
// folder (keys 0600), loaded through LocalSigner and loadSigningCa as `mayfly serve` does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCaHierarchy, type CaBootstrap, type CaKeyType } from '../../../src/issuance/ca_bootstrap';
import { LocalSigner } from '../../../src/signers/local';
import { loadSigningCa, type SigningCa } from '../../../src/signers/signing_ca';

export interface TestSigningCa {
  readonly dir: string;
  readonly hierarchy: CaBootstrap;
  readonly signingCa: SigningCa;
  readonly rootFile: string;
  /** The issuing certificate, then the root. */
  readonly chainFile: string;
  readonly keyFile: string;
  remove(): void;
}

export async function createTestSigningCa(type: CaKeyType = 'p256', now: Date = new Date()): Promise<TestSigningCa> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-unit-ca-'));
  const hierarchy = await createCaHierarchy(type, 'Mayfly Unit', now);
  const keyFile = join(dir, 'intermediate.key');
  const chainFile = join(dir, 'intermediate.pem');
  const rootFile = join(dir, 'root.pem');
  writeFileSync(keyFile, hierarchy.intermediate.privateKey, { mode: 0o600 });
  writeFileSync(join(dir, 'root.key'), hierarchy.root.privateKey, { mode: 0o600 });
  writeFileSync(chainFile, hierarchy.intermediate.certificate + hierarchy.root.certificate, { mode: 0o644 });
  writeFileSync(rootFile, hierarchy.root.certificate, { mode: 0o644 });
  const signingCa = await loadSigningCa('unit', chainFile, () => LocalSigner.load({ keyFile }));
  return { dir, hierarchy, signingCa, rootFile, chainFile, keyFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
