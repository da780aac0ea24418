// A seeded, time-bounded fuzz of public-key encodings (issue 14): SubjectPublicKeyInfos mutated by
// key_mutants.ts, in requests signed by the corpus key they came from where that is possible.
//
//   npx jest test/fuzz/key_fuzz                                        10,000 cases in-process + 1,000 over HTTP (npm test), fresh seed
//   npm run test:full                                                  100,000 + 2,000 (key_fuzz.full.test.ts)
//   MAYFLY_KEY_FUZZ_SEED=1234 MAYFLY_KEY_FUZZ_CASES=1000000 npx jest test/fuzz/key_fuzz    a long local run
//   MAYFLY_KEY_FUZZ_SEED=1234 MAYFLY_KEY_FUZZ_FIRST=40000 MAYFLY_KEY_FUZZ_CASES=2000 npx jest test/fuzz/key_fuzz   replay a range
//
// Most cases run in two child processes (key_fuzz_run.ts) through the sign route's own stages
// (parse → policy → issue → audit event): an OpenSSL abort there ends the child, which this test sees
// as a signal, not a dead jest worker. The rest go over real HTTP to `mayfly serve --workers 2`.
// Asserted: no crash, no 5xx, and no certificate unless key_oracle.ts finds it right: the key is the
// signer's in canonical form, allowed by the RA (the default RA's public_key rules), never a key
// made to be refused, with the requested subject and name.
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveFreshWorkers, type InitialisedServer } from '../helpers/cli';
import { postForm } from '../helpers/mayfly';
import { requestPem } from '../helpers/public_keys';
import type { KeyFuzzResult } from './key_fuzz_run';
import { corpusKeyPems, REGISTRATION_AUTHORITIES, withOpenRegistrationAuthority } from './key_fuzz_setup';
import { keyCorpus, keyMutant, RequestSigner } from './key_mutants';
import { issuedProblems } from './key_oracle';
import { caseRng, seedFrom } from './prng';

const SEED = seedFrom(process.env.MAYFLY_KEY_FUZZ_SEED);
const FIRST = Number(process.env.MAYFLY_KEY_FUZZ_FIRST ?? 0);
/** Each child's time budget; a child that runs out reports fewer cases, and the test fails saying so. */
const SECONDS = Number(process.env.MAYFLY_KEY_FUZZ_SECONDS ?? 150);
const CHILDREN = 2;
const HTTP_CONCURRENCY = 4;
/** The HTTP cases draw from their own streams, so they are not the in-process cases again. */
const HTTP_STREAM = 0x4854_5450;

interface ChildOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly result?: KeyFuzzResult;
  readonly lastProgress: string;
  readonly output: string;
}

function runChild(first: number, cases: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', join(__dirname, 'swc_register.js'), join(__dirname, 'key_fuzz_run.ts')], {
      env: { ...process.env, MAYFLY_KEY_FUZZ_SEED: String(SEED), MAYFLY_KEY_FUZZ_FIRST: String(first), MAYFLY_KEY_FUZZ_CASES: String(cases), MAYFLY_KEY_FUZZ_SECONDS: String(SECONDS) },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code, signal) => {
      const resultLine = output.split('\n').find((line) => line.startsWith('RESULT '));
      const progress = output.match(/^progress \d+$/gm) ?? [];
      resolve({
        code,
        signal,
        ...(resultLine ? { result: JSON.parse(resultLine.slice('RESULT '.length)) as KeyFuzzResult } : {}),
        lastProgress: progress.at(-1) ?? 'none',
        output: output.replace(/^(progress \d+|RESULT .*)\n/gm, '').slice(-4000),
      });
    });
  });
}

/** Adds `b`'s counts to `a`'s. */
function addCounts(into: Record<string, Record<string, number>>, from: Record<string, Record<string, number>>): void {
  for (const [family, outcomes] of Object.entries(from)) {
    const counts = (into[family] ??= {});
    for (const [outcome, count] of Object.entries(outcomes)) counts[outcome] = (counts[outcome] ?? 0) + count;
  }
}

const report = (families: Record<string, Record<string, number>>): string =>
  Object.entries(families)
    .sort()
    .map(([family, outcomes]) => `  ${family.padEnd(18)} ${Object.entries(outcomes).map(([outcome, n]) => `${outcome}×${n}`).join(' ')}`)
    .join('\n');

/** The fuzz run as a jest suite, of `standard` sizes unless MAYFLY_KEY_FUZZ_CASES / _HTTP_CASES say otherwise. */
export function fuzzPublicKeys(standard: { readonly cases: number; readonly httpCases: number }): void {
  const CASES = Number(process.env.MAYFLY_KEY_FUZZ_CASES ?? standard.cases);
  const HTTP_CASES = Number(process.env.MAYFLY_KEY_FUZZ_HTTP_CASES ?? standard.httpCases);
  describe('fuzzing public-key encodings', () => {
    it(`runs ${CASES} mutated keys through parse → policy → issue with no crash, no 5xx and no certificate it must not issue`, async () => {
      console.log(`mayfly key fuzz: seed ${SEED} (MAYFLY_KEY_FUZZ_SEED=${SEED}), cases ${FIRST}..${FIRST + CASES - 1} in ${CHILDREN} processes, ${SECONDS} s each at most`);
      const share = Math.ceil(CASES / CHILDREN);
      const ranges = Array.from({ length: CHILDREN }, (_, i) => [FIRST + i * share, Math.max(0, Math.min(share, CASES - i * share))] as const).filter(([, n]) => n > 0);
      const outcomes = await Promise.all(ranges.map(([first, cases]) => runChild(first, cases)));

      const families: Record<string, Record<string, number>> = {};
      const problems: string[] = [];
      let done = 0;
      outcomes.forEach((outcome, i) => {
        const [first, cases] = ranges[i];
        if (outcome.code !== 0 || outcome.signal) {
          problems.push(
            `the process running cases ${first}..${first + cases - 1} ended with ${outcome.signal ?? `exit code ${outcome.code}`} after ${outcome.lastProgress} ` +
              `(replay: MAYFLY_KEY_FUZZ_SEED=${SEED} MAYFLY_KEY_FUZZ_FIRST=${outcome.lastProgress.replace('progress ', '')} MAYFLY_KEY_FUZZ_CASES=2000 npx jest test/fuzz/key_fuzz):\n${outcome.output}`,
          );
        }
        if (!outcome.result) return;
        done += outcome.result.cases;
        addCounts(families, outcome.result.families);
        if (outcome.result.cases < cases) problems.push(`only ${outcome.result.cases} of cases ${first}..${first + cases - 1} ran in ${SECONDS} s`);
        for (const failure of outcome.result.failures) {
          problems.push(`case ${failure.index} (${failure.family}, ${failure.description}): ${failure.problems.join('; ')}\n    request: ${failure.der}`);
        }
        if (outcome.result.failureCount > outcome.result.failures.length) problems.push(`and ${outcome.result.failureCount - outcome.result.failures.length} more failures`);
      });
      const seconds = Math.max(...outcomes.map((outcome) => outcome.result?.seconds ?? 0));
      console.log(`mayfly key fuzz: seed ${SEED}: ${done} cases in ${seconds.toFixed(1)} s\n${report(families)}`);
      if (problems.length > 0) writeFileSync(join(tmpdir(), `mayfly-key-fuzz-${SEED}.txt`), problems.join('\n\n'));

      expect(problems.slice(0, 20)).toEqual([]);
      expect(done).toBe(CASES);
      if (CASES >= 10_000) {
        // A fuzz that never got a key past the csr stage, or never refused one, would pass whatever Mayfly did.
        const total = (outcome: string) => Object.values(families).reduce((sum, counts) => sum + (counts[outcome] ?? 0), 0);
        expect(total('issued')).toBeGreaterThan(CASES * 0.1);
        expect(total('400')).toBeGreaterThan(CASES * 0.3);
        expect(total('403')).toBeGreaterThan(CASES * 0.05);
        for (const family of ['ec-infinity', 'ec-hybrid', 'forgery', 'ed-small-order', 'rsa-exponent', 'rsa-modulus']) expect(families[family]?.['400']).toBeGreaterThan(0);
      }
    }, (SECONDS + 60) * 1000);

    describe('over HTTP, against mayfly serve --workers 2', () => {
      let server: InitialisedServer;
      beforeAll(async () => {
        // The per-address and per-identity request rates would answer most of the run 429.
        const unlimited = (yaml: string) => yaml.replace(/^server:\n/m, 'server:\n  limits:\n    requests_per_minute_per_identity: 0\n    requests_per_minute_per_source: 0\n');
        server = await serveFreshWorkers(2, (yaml) => unlimited(withOpenRegistrationAuthority(yaml)));
      }, 60_000);
      afterAll(() => server?.stop());

      it(`answers ${HTTP_CASES} mutated keys with no 5xx, no dropped connection and no certificate it must not issue`, async () => {
        const corpus = keyCorpus(corpusKeyPems());
        const signer = new RequestSigner();
        const statuses: Record<string, number> = {};
        const problems: string[] = [];
        let next = 0;
        const worker = async () => {
          for (let index = next++; index < HTTP_CASES; index = next++) {
            const rng = caseRng(SEED ^ HTTP_STREAM, index);
            const mutant = keyMutant(rng, corpus, signer);
            const ra = rng.pick(REGISTRATION_AUTHORITIES);
            const where = `HTTP case ${index} (${ra}, ${mutant.family}: ${mutant.description})`;
            let response: Response;
            try {
              response = await postForm(`${server.serving.url}/v1/sign/${ra}`, { user: 'deployer', secret: server.secret, encoding: 'pem', csr: requestPem(mutant.der) });
            } catch (error) {
              problems.push(`${where}: no answer (${(error as Error).message}); request ${mutant.der.toString('base64')}`);
              continue;
            }
            const body = await response.text();
            statuses[response.status] = (statuses[response.status] ?? 0) + 1;
            if (response.status >= 500) problems.push(`${where}: ${response.status} ${body.slice(0, 200)}`);
            if (response.status !== 200) continue;
            const pem = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(body);
            const wrong = pem ? issuedProblems(mutant, ra, Buffer.from(pem[1].replace(/\s+/g, ''), 'base64')) : ['a 200 without a certificate'];
            if (wrong.length > 0) problems.push(`${where}: ${wrong.join('; ')}; request ${mutant.der.toString('base64')}`);
          }
        };
        await Promise.all(Array.from({ length: HTTP_CONCURRENCY }, worker));
        console.log(`mayfly key fuzz over HTTP: seed ${SEED}: ${JSON.stringify(statuses)}`);
        expect(problems.slice(0, 20)).toEqual([]);
        expect(server.serving.output()).not.toMatch(/Assertion failed|worker \d+ stopped/);
        if (HTTP_CASES >= 1000) {
          expect(statuses[429]).toBeUndefined();
          expect(statuses[200]).toBeGreaterThan(HTTP_CASES * 0.1);
          expect(statuses[400]).toBeGreaterThan(HTTP_CASES * 0.3);
        }
      }, 240_000);
    });
  });
}
