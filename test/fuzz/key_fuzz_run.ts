// The in-process half of the key-encoding fuzz, run by key_fuzz.ts in a child process (an
// OpenSSL abort ends this process, and the test sees the signal). Each case goes the RA's one way to
// a certificate (src/ra/issue.ts: decode → parse → policy → issue → record), with the real config,
// validators and signer; a thrown error other than a CsrParseError (400) or a PolicyRejection (403)
// is what the server would answer 5xx. Prints `progress N` as it goes and one `RESULT {json}` line at the end.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import type { Ledger } from '../../src/audit/ledger';
import type { AuditEvent } from '../../src/audit/record';
import { CsrParseError } from '../../src/csr/errors';
import { PolicyRejection } from '../../src/policy/rejection';
import { issue } from '../../src/ra/issue';
import type { RegistrationAuthority } from '../../src/ra/registration_authority';
import type { Requester } from '../../src/types';
import { startTestCa } from '../helpers/mayfly';
import { corpusKeyPems, REGISTRATION_AUTHORITIES, withOpenRegistrationAuthority } from './key_fuzz_setup';
import { keyCorpus, keyMutant, RequestSigner, type KeyMutant } from './key_mutants';
import { certificateSpki, issuedProblems } from './key_oracle';
import { caseRng } from './prng';

export interface KeyFuzzResult {
  readonly seed: number;
  readonly first: number;
  readonly cases: number;
  readonly seconds: number;
  /** Counts by family, then outcome (400, 403, issued, 5xx). */
  readonly families: Record<string, Record<string, number>>;
  readonly failures: readonly { index: number; family: string; description: string; problems: readonly string[]; der: string }[];
  readonly failureCount: number;
}

const REQUESTER: Requester = { user: 'deployer', groups: [], authentication: 'deployers' };

async function main(): Promise<void> {
  const seed = Number(process.env.MAYFLY_KEY_FUZZ_SEED);
  const first = Number(process.env.MAYFLY_KEY_FUZZ_FIRST ?? 0);
  const cases = Number(process.env.MAYFLY_KEY_FUZZ_CASES ?? 100_000);
  const deadline = Date.now() + Number(process.env.MAYFLY_KEY_FUZZ_SECONDS ?? 150) * 1000;
  const ca = await startTestCa({ editConfig: withOpenRegistrationAuthority });
  const corpus = keyCorpus(corpusKeyPems());
  const signer = new RequestSigner();
  const ledger = new LastRecordLedger();
  const families: Record<string, Record<string, number>> = {};
  const failures: KeyFuzzResult['failures'][number][] = [];
  let failureCount = 0;
  const started = Date.now();
  let done = 0;
  for (let index = first; index < first + cases && Date.now() < deadline; index++, done++) {
    if ((index - first) % 2000 === 0) process.stdout.write(`progress ${index}\n`);
    const rng = caseRng(seed, index);
    const mutant = keyMutant(rng, corpus, signer);
    const raName = rng.pick(REGISTRATION_AUTHORITIES);
    const { outcome, problems } = await runCase(ca.runtime.registrationAuthorities.get(raName)!, ledger, mutant);
    const family = (families[mutant.family] ??= {});
    family[outcome] = (family[outcome] ?? 0) + 1;
    if (problems.length > 0) {
      failureCount++;
      if (failures.length < 50) failures.push({ index, family: mutant.family, description: `${raName}: ${mutant.description}`, problems, der: mutant.der.toString('base64') });
    }
  }
  await ca.stop();
  const result: KeyFuzzResult = { seed, first, cases: done, seconds: (Date.now() - started) / 1000, families, failures, failureCount };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/**
 * The ledger of the in-process run: it keeps each case's record in memory (an SQLite ledger would
 * spend the run on fsync), so the case can check the fingerprint the record names.
 */
class LastRecordLedger implements Ledger {
  private last: AuditEvent | undefined;
  append(event: AuditEvent): Promise<void> {
    this.last = event;
    return Promise.resolve();
  }
  /** The record of the case so far, and a clean slate for the next. */
  take(): AuditEvent | undefined {
    const last = this.last;
    this.last = undefined;
    return last;
  }
  problem = () => Promise.resolve(undefined);
  onCommit(): void {}
  close = () => Promise.resolve();
}

/** One case through the RA's own way to a certificate (src/ra/issue.ts), as every door takes it. */
async function runCase(ra: RegistrationAuthority, ledger: LastRecordLedger, mutant: KeyMutant): Promise<{ outcome: string; problems: string[] }> {
  ledger.take();
  try {
    const issued = await issue(ra, ledger, { requester: REQUESTER, csr: mutant.der, source: '127.0.0.1', protocol: 'pkcs10' });
    const problems = issuedProblems(mutant, ra.name, issued.der);
    const fingerprint = createHash('sha256').update(certificateSpki(issued.der)).digest('hex');
    const recorded = ledger.take()?.public_key?.spki_sha256;
    if (recorded !== fingerprint) problems.push(`the ledger recorded key ${recorded}, the certificate holds ${fingerprint}`);
    return { outcome: 'issued', problems };
  } catch (error) {
    const recorded = ledger.take()?.outcome;
    const refused = recorded === 'refused' ? [] : [`a refusal recorded as ${recorded ?? 'nothing'}`];
    if (error instanceof CsrParseError) return { outcome: '400', problems: refused };
    if (error instanceof PolicyRejection) return { outcome: '403', problems: refused };
    return { outcome: '5xx', problems: [`the RA threw ${(error as Error).name}: ${(error as Error).message}`] };
  }
}

main().catch((error: unknown) => {
  process.stdout.write(`FATAL ${error instanceof Error ? error.stack : String(error)}\n`);
  // The test CA's server would keep the process alive.
  process.exit(2);
});
