// The in-process half of the key-encoding fuzz, run by key_fuzz.test.ts in a child process (an
// OpenSSL abort ends this process, and the test sees the signal). Each case goes the way the sign
// route takes a request: parse → policy → issue → audit event, with the real config, validators and
// signer; a thrown error other than a CsrParseError (400) or a PolicyRejection (403) is what the
// server would answer 500. Prints `progress N` as it goes and one `RESULT {json}` line at the end.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { signEvent } from '../../src/audit/events';
import type { RegistrationAuthority } from '../../src/config/assemble';
import { CsrParseError } from '../../src/csr/errors';
import { parseCertificationRequest } from '../../src/csr/parse';
import { issueCertificate } from '../../src/issuance/certificate';
import { evaluatePolicy } from '../../src/policy/runner';
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
    const { outcome, problems } = await runCase(ca.runtime.registrationAuthorities.get(raName)!, mutant);
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

async function runCase(ra: RegistrationAuthority, mutant: KeyMutant): Promise<{ outcome: string; problems: string[] }> {
  const context = { ra: ra.name, source: '127.0.0.1' };
  let csr;
  try {
    csr = parseCertificationRequest(mutant.der);
  } catch (error) {
    if (error instanceof CsrParseError) return { outcome: '400', problems: [] };
    return { outcome: '5xx', problems: [`the csr stage threw ${(error as Error).name}: ${(error as Error).message}`] };
  }
  try {
    const names = { dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses };
    const policy = evaluatePolicy(ra.policy, { csr, names, requester: REQUESTER, sourceAddress: context.source, registrationAuthority: ra.name });
    if (policy.refusals.length > 0) {
      signEvent(context, { requester: REQUESTER, csr, names: policy.names, verdicts: policy.verdicts, outcome: 'refused' });
      return { outcome: '403', problems: [] };
    }
    const issued = await issueCertificate({ subject: csr.subject, publicKey: csr.publicKey, names: policy.names }, ra.profile, ra.signingCa);
    const event = signEvent(context, { requester: REQUESTER, csr, names: policy.names, verdicts: policy.verdicts, outcome: 'issued', issued });
    const problems = issuedProblems(mutant, ra.name, issued.der);
    const fingerprint = createHash('sha256').update(certificateSpki(issued.der)).digest('hex');
    if (event.public_key?.spki_sha256 !== fingerprint) problems.push(`the ledger would record key ${event.public_key?.spki_sha256}, the certificate holds ${fingerprint}`);
    return { outcome: 'issued', problems };
  } catch (error) {
    return { outcome: '5xx', problems: [`policy or issuance threw ${(error as Error).name}: ${(error as Error).message}`] };
  }
}

main().catch((error: unknown) => {
  process.stdout.write(`FATAL ${error instanceof Error ? error.stack : String(error)}\n`);
  // The test CA's server would keep the process alive.
  process.exit(2);
});
