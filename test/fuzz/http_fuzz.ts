// A seeded, bounded fuzz test of the sign API through the real HTTP server over loopback.
//
//   npx jest test/fuzz/http_fuzz.test.ts                        2,000 cases (npm test), a fresh seed each run
//   npm run test:full                                           20,000 cases (http_fuzz.full.test.ts)
//   MAYFLY_FUZZ_CASES=200000 MAYFLY_FUZZ_SEED=1234 npx jest test/fuzz/http_fuzz.test.ts    the long local run
//   MAYFLY_FUZZ_SEED=1234 MAYFLY_FUZZ_ONLY=17,4242 npx jest test/fuzz/http_fuzz.test.ts    replay single cases
//
// Cases are mutated and generated CSRs (from the openssl corpus in ./corpus and from Mayfly's own
// DER writer, re-signed so they get past the signature check), broken PEM and base64, malformed
// bodies, odd headers, paths and methods, and malformed HTTP on a raw socket; most carry valid
// credentials so that they reach the CSR parser and the policy. It asserts: no 5xx, no request left
// unanswered past its timeout, the server still answering the known-good request every
// HEALTH_EVERY cases and at the end, and no certificate unless an independent judge (oracle.ts:
// @peculiar/x509, openssl and a DER walker of its own) finds the request allowed by the default
// policy and the certificate carrying exactly its subject, key and names.
import 'reflect-metadata';
import { createHash, X509Certificate } from 'node:crypto';
import { Agent } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import type { Authenticator, Credentials } from '../../src/auth/authenticator';
import type { LimitOptions } from '../../src/http/limits';
import { startServer, type RunningServer } from '../../src/http/server';
import type { Requester } from '../../src/types';
import { startTestCa, TEST_LIMITS, type TestCa } from '../helpers/mayfly';
import { buildCase, describeRequest, loadContext, type FuzzCase, type FuzzContext } from './cases';
import { send, type Answer, type Target } from './client';
import { certificateProblems, judgeCsr, opensslProblem, type Judgement } from './oracle';
import { seedFrom } from './prng';

const SEED = seedFrom(process.env.MAYFLY_FUZZ_SEED);
const ONLY = process.env.MAYFLY_FUZZ_ONLY?.split(',').filter((s) => s.trim() !== '').map(Number);
const CONCURRENCY = Number(process.env.MAYFLY_FUZZ_CONCURRENCY ?? 8);
/** A request unanswered for this long is a hang. */
const REQUEST_TIMEOUT_MS = 15_000;
/** How many accepted requests have their signature checked by openssl too. */
const OPENSSL_SAMPLE = 24;

/**
 * The server's front-door limits (rates, caps on unauthenticated requests and credential checks,
 * back-off) would turn a fuzz run from one address into 429s; they are lifted for this server, and
 * nothing else changes.
 */
const FUZZ_LIMITS: LimitOptions = { ...TEST_LIMITS, authFailuresBeforeBackoff: 1_000_000_000, authFailuresPerSourceBeforeBackoff: 1_000_000_000 };

/**
 * Authentication is a pure function of the credentials, and a wrong secret costs a full scrypt
 * (about 0.2 s here) every time; the fuzzer sends the same few wrong ones thousands of times. So each
 * distinct set of credentials is checked by the real authenticator once and its answer reused:
 * wrong credentials still fail, for real, and the run is not capped at a few requests a second.
 */
function rememberAuthentication(authenticator: Authenticator): void {
  const check = authenticator.authenticate.bind(authenticator);
  const answers = new Map<string, Promise<Requester | undefined>>();
  authenticator.authenticate = (credentials: Credentials) => {
    if (credentials.clientCertificates && credentials.clientCertificates.length > 0) return check(credentials);
    const key = JSON.stringify([credentials.user ?? null, credentials.secret ?? null, credentials.bearer ?? null]);
    let answer = answers.get(key);
    if (!answer) {
      answer = check(credentials);
      if (answers.size < 10_000) answers.set(key, answer);
    }
    return answer;
  };
}

interface Failure {
  readonly index: number;
  readonly family: string;
  readonly kind: string;
  readonly problems: readonly string[];
  readonly description: string;
  readonly request: string;
  readonly status: string;
  readonly response: string;
}

/** Counts by family and outcome, for the report and for the checks that the fuzzer reached deep. */
class Stats {
  readonly families = new Map<string, Map<string, number>>();
  readonly outcomes = new Map<string, number>();
  /** Milliseconds spent per family (request and checks), for finding what slows a run down. */
  readonly time = new Map<string, { total: number; max: number }>();
  cases = 0;
  issued = 0;
  unsendable = 0;
  opensslChecked = 0;

  record(fuzz: FuzzCase, answer: Answer, outcome: string, ms: number): void {
    this.cases++;
    const time = this.time.get(fuzz.family) ?? { total: 0, max: 0 };
    this.time.set(fuzz.family, { total: time.total + ms, max: Math.max(time.max, ms) });
    const family = this.families.get(fuzz.family) ?? new Map<string, number>();
    const key = answer.unsendable ? 'unsendable' : answer.statuses.length === 0 ? `no answer (${answer.error ?? 'closed'})` : answer.statuses.join('+');
    family.set(key, (family.get(key) ?? 0) + 1);
    this.families.set(fuzz.family, family);
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  /** Cases whose (first) answer had `status`. */
  withStatus(status: number): number {
    return [...this.outcomes].filter(([outcome]) => outcome.startsWith(`${status}`)).reduce((sum, [, n]) => sum + n, 0);
  }

  report(): string {
    const families = [...this.families].sort().map(([name, statuses]) => {
      const total = [...statuses.values()].reduce((a, b) => a + b, 0);
      const time = this.time.get(name) ?? { total: 0, max: 0 };
      return `  ${name.padEnd(16)} ${String(total).padStart(6)}  ${(time.total / total).toFixed(1).padStart(6)} ms avg ${time.max.toFixed(0).padStart(5)} ms max  ${[...statuses].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}×${n}`).join(' ')}`;
    });
    const outcomes = [...this.outcomes].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([o, n]) => `  ${String(n).padStart(6)}  ${o}`);
    return `by family (cases, time a case, status×count):\n${families.join('\n')}\nmost common outcomes:\n${outcomes.join('\n')}`;
  }
}

/** The error code of an error answer (JSON `error`, or the first line of text), for the statistics. */
function outcomeOf(answer: Answer): string {
  if (answer.unsendable) return 'unsendable';
  if (answer.statuses.length === 0) return `no answer: ${answer.error ?? 'closed'}`;
  const status = answer.statuses[0];
  const text = answer.body.subarray(0, 4096).toString('utf8');
  const start = text.indexOf('\r\n\r\n');
  const body = answer.headers ? text : start >= 0 ? text.slice(start + 4) : '';
  try {
    const parsed = JSON.parse(body) as { error?: string };
    if (parsed.error) return `${status} ${parsed.error}`;
  } catch {
    // text
  }
  if (status === 200) return '200';
  return `${status} ${body.split('\n')[0].replace(/['"][^'"]*['"]/g, '…').replace(/\d+/g, 'N').slice(0, 70)}`;
}

/** The message of an error answer: JSON `message`, or the text body's first line. */
function errorMessageIn(answer: Answer): string {
  let text = answer.body.subarray(0, 2000).toString('utf8');
  if (!answer.headers) text = text.slice(text.indexOf('\r\n\r\n') + 4);
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // text
  }
  return text.split('\n')[0].trim().slice(0, 160);
}

/** The certificate PEMs in an answer: JSON's `certificate`, or PEM blocks in text. */
function certificatesIn(answer: Answer, raw: boolean): string[] {
  const text = answer.body.toString('utf8');
  const type = String(answer.headers?.['content-type'] ?? '');
  if (!raw && type.startsWith('application/json')) {
    try {
      const certificate = (JSON.parse(text) as { certificate?: unknown }).certificate;
      return typeof certificate === 'string' ? [certificate] : [];
    } catch {
      return [];
    }
  }
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** The fuzz run as a jest suite: `standardCases` cases unless MAYFLY_FUZZ_CASES says otherwise. */
export function fuzzSignApi(standardCases: number): void {
  const CASES = Number(process.env.MAYFLY_FUZZ_CASES ?? standardCases);
  describe('fuzzing the sign API over HTTP', () => {
    let ca: TestCa;
    let server: RunningServer;
    let target: Target;
    let agent: Agent;
    let context: FuzzContext;
    let issuer: X509Certificate;
    const judgements = new Map<string, Promise<Judgement>>();
    /** Internal errors the server logged (what becomes a 500), with when, to explain 5xx answers. */
    const logged: { at: number; error: unknown }[] = [];
    const opensslChecked = new Set<string>();

    beforeAll(async () => {
      ca = await startTestCa();
      // The same config, runtime and CA as startTestCa's server; only the rate limits differ.
      const logError = (error: unknown) => {
        logged.push({ at: performance.now(), error });
        if (logged.length > 200) logged.shift();
      };
      server = await startServer({ runtime: () => ca.runtime, limits: FUZZ_LIMITS, logError }, '127.0.0.1', 0);
      const url = new URL(server.url);
      target = { host: url.hostname, port: Number(url.port) };
      agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      for (const authenticator of new Set(ca.runtime.authenticators.map((entry) => entry.authenticator))) rememberAuthentication(authenticator);
      context = loadContext(ca.secret);
      issuer = new X509Certificate(readFileSync(ca.chainFile, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0]);
    });

    afterAll(async () => {
      agent?.destroy();
      await server?.close();
      await ca?.stop();
    });

    const judge = (der: Buffer): Promise<Judgement> => {
      const key = createHash('sha256').update(der).digest('hex');
      let judgement = judgements.get(key);
      if (!judgement) {
        judgement = judgeCsr(der);
        if (judgements.size < 20_000) judgements.set(key, judgement);
      }
      return judgement;
    };

    /** Everything wrong with the answer to `fuzz`; empty when it is acceptable. */
    async function problemsWith(fuzz: FuzzCase, answer: Answer, stats: Stats, began = 0, answered = Infinity): Promise<string[]> {
      if (answer.unsendable) return [];
      if (answer.error === 'timeout') return [`hang: no answer within ${REQUEST_TIMEOUT_MS} ms`];
      if (fuzz.request.type === 'http' && answer.statuses.length === 0) return [`no answer: the connection ended (${answer.error ?? 'closed'}) without a response`];
      const problems: string[] = [];
      for (const status of answer.statuses) {
        if (status < 500) continue;
        // The last internal error the server logged before this answer (with 8 in flight, rarely another's).
        const last = logged.filter((entry) => entry.at >= began && entry.at <= answered).pop();
        const cause = last && (last.error instanceof Error ? `${last.error.name}: ${last.error.message.split('\n')[0]}` : String(last.error));
        problems.push(`${status} ${errorMessageIn(answer)}${cause ? ` [server logged ${cause}]` : ''}`);
      }
      if (fuzz.mustIssue && answer.statuses[0] !== 200) problems.push(`the known-good request got ${answer.statuses[0]}: ${answer.body.toString('utf8').slice(0, 300)}`);
      if (!fuzz.sign || !answer.statuses.includes(200)) return problems;
      const certificates = certificatesIn(answer, fuzz.request.type === 'raw');
      if (certificates.length === 0 && fuzz.request.type === 'http' && fuzz.request.method !== 'HEAD') problems.push('a 200 without a certificate');
      for (const certificate of certificates) {
        if (fuzz.carried.length === 0) {
          problems.push('issued a certificate for a request that must be refused (broken credentials, a malformed or repeated field, or no CSR)');
          continue;
        }
        const verdicts: string[] = [];
        let accepted = false;
        for (const candidate of fuzz.carried) {
          const judgement = await judge(candidate);
          const wrong = judgement.allowed ? certificateProblems(certificate, judgement, issuer, fuzz.maxValidityMs) : [];
          if (judgement.allowed && wrong.length === 0) {
            accepted = true;
            stats.issued++;
            const key = createHash('sha256').update(candidate).digest('hex');
            // A sample spread over the run (by the request's hash), not just its first requests.
            if (opensslChecked.size < OPENSSL_SAMPLE && key.endsWith('0') && !opensslChecked.has(key)) {
              opensslChecked.add(key);
              stats.opensslChecked++;
              const refusal = await opensslProblem(candidate);
              if (refusal) problems.push(`openssl req -verify refuses a request the judge allowed: ${refusal}`);
            }
            break;
          }
          verdicts.push(judgement.allowed ? `the certificate is wrong: ${wrong.join('; ')}` : `the request must be refused: ${judgement.reasons.join('; ')}`);
        }
        if (!accepted) problems.push(`issued a certificate it must not have: ${verdicts.join(' | ')}`);
      }
      return problems;
    }

    it(`answers ${ONLY ? ONLY.length : CASES} fuzz cases with no 5xx, no hang, no crash and no certificate policy refuses`, async () => {
      const stats = new Stats();
      const failures: Failure[] = [];
      const indexes = ONLY ?? Array.from({ length: CASES }, (_, i) => i);
      console.log(`mayfly fuzz: seed ${SEED} (MAYFLY_FUZZ_SEED=${SEED}), ${indexes.length} cases, ${CONCURRENCY} in flight, sweep of ${context.sweep.length} planned mutations`);
      const started = Date.now();
      let next = 0;
      // The server runs in this process: an exception nothing catches (an 'error' event without a
      // listener, a throw in a callback) would end a real Mayfly. Note it, with the cases in flight.
      const inFlight = new Map<number, string>();
      const crashes: string[] = [];
      const fuzzerErrors: string[] = [];
      const onCrash = (error: unknown) => {
        // Errors from Node's own realm are not `instanceof Error` in Jest's sandbox.
        const { name, message: text, stack } = error as { name?: string; message?: string; stack?: string };
        const cases = [...inFlight].map(([index, what]) => `${index} (${what})`).join('; ');
        const message = `the server process got an uncaught exception (a real mayfly serve would have died): ${name ?? 'error'}: ${(text ?? String(error)).split('\n')[0]} — while these cases were in flight: ${cases}`;
        crashes.push(message);
        console.log(`FUZZ FAILURE seed ${SEED}: ${message}\n${stack ?? ''}`);
      };
      // Jest gives a test its own copy of `process`; the server's uncaught errors reach the real one.
      const realProcess = runInThisContext('process') as NodeJS.Process;
      realProcess.on('uncaughtException', onCrash);
      realProcess.on('unhandledRejection', onCrash);

      /** Failures grouped by kind: the first problem with numbers, quoted text and certificate bytes blurred. */
      const kinds = new Map<string, { count: number; cases: number[] }>();
      const kindOf = (problem: string) => problem.replace(/"[^"]*"|'[^']*'/g, '…').replace(/\b[0-9a-f]{16,}\b/g, 'X').replace(/\d+/g, 'N').slice(0, 140);
      const fail = (fuzz: FuzzCase, answer: Answer, problems: string[]) => {
        const kind = kindOf(problems[0]);
        const failure: Failure = {
          index: fuzz.index,
          family: fuzz.family,
          kind,
          problems,
          description: fuzz.description,
          request: describeRequest(fuzz.request, 100_000),
          status: answer.statuses.join('+') || answer.error || '',
          response: answer.body.toString('utf8').slice(0, 20_000),
        };
        const seen = kinds.get(kind) ?? { count: 0, cases: [] };
        // A long run can fail the same way thousands of times: keep the details of the first few.
        if (seen.count < 20) failures.push(failure);
        seen.count++;
        if (seen.cases.length < 5) seen.cases.push(fuzz.index);
        kinds.set(kind, seen);
        if (seen.count <= 2) {
          console.log(`FUZZ FAILURE seed ${SEED} case ${fuzz.index} (replay: MAYFLY_FUZZ_SEED=${SEED} MAYFLY_FUZZ_ONLY=${fuzz.index} npx jest test/fuzz/http_fuzz.test.ts)\n  ${problems.join('\n  ')}\n  case (${fuzz.family}): ${fuzz.description}\n  request: ${describeRequest(fuzz.request, 1500)}\n  response: ${failure.status} ${failure.response.slice(0, 300)}`);
        }
      };

      const worker = async () => {
        for (;;) {
          const position = next++;
          if (position >= indexes.length) return;
          const index = indexes[position];
          const began = performance.now();
          let fuzz: FuzzCase;
          try {
            fuzz = buildCase(context, SEED, index);
          } catch (error) {
            // The fuzzer's own fault, not the server's; reported so that it gets fixed, not skipped.
            fuzzerErrors.push(`case ${index}: ${error instanceof Error ? error.stack : String(error)}`);
            continue;
          }
          inFlight.set(index, `${fuzz.family}: ${fuzz.description.slice(0, 80)}`);
          const answer = await send(target, agent, fuzz.request, REQUEST_TIMEOUT_MS);
          const answered = performance.now();
          inFlight.delete(index);
          if (answer.unsendable) stats.unsendable++;
          const problems = await problemsWith(fuzz, answer, stats, began, answered);
          stats.record(fuzz, answer, outcomeOf(answer), performance.now() - began);
          if (problems.length > 0) fail(fuzz, answer, problems);
        }
      };
      try {
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      } finally {
        realProcess.off('uncaughtException', onCrash);
        realProcess.off('unhandledRejection', onCrash);
      }
      const seconds = (Date.now() - started) / 1000;

      // The server is still there, and still right, after everything.
      const caChain = await send(target, agent, { type: 'http', method: 'GET', path: '/v1/ca/default', headers: [], body: Buffer.alloc(0) }, REQUEST_TIMEOUT_MS);
      const finalCase = buildCase(context, SEED, 0);
      const finalAnswer = await send(target, agent, finalCase.request, REQUEST_TIMEOUT_MS);
      const finalProblems = await problemsWith(finalCase, finalAnswer, stats);

      const failed = [...kinds.values()].reduce((sum, { count }) => sum + count, 0);
      const report = [
        `mayfly fuzz: seed ${SEED}: ${stats.cases} cases in ${seconds.toFixed(1)} s = ${(stats.cases / seconds).toFixed(0)} cases/s`,
        `  certificates issued and checked by the independent judge: ${stats.issued} (openssl cross-checked ${stats.opensslChecked}); requests node:http would not send: ${stats.unsendable}`,
        `  uncaught exceptions in the server: ${crashes.length}; errors in the fuzzer itself: ${fuzzerErrors.length}`,
        `  failed cases: ${failed}${[...kinds].map(([kind, { count, cases }]) => `\n    ${String(count).padStart(5)}× ${kind} (cases ${cases.join(', ')})`).join('')}`,
        stats.report(),
      ].join('\n');
      console.log(report);
      if (failures.length > 0 || fuzzerErrors.length > 0) {
        const file = join(tmpdir(), `mayfly-fuzz-${SEED}.json`);
        writeFileSync(file, JSON.stringify({ seed: SEED, failures, fuzzerErrors }, null, 2));
        console.log(`the first failures of each kind, with their requests: ${file}`);
      }

      // One assertion for the whole verdict, so a failing run shows every kind of failure at once.
      expect({
        uncaughtExceptions: crashes,
        fuzzerErrors: fuzzerErrors.map((error) => error.split('\n')[0]),
        afterTheRun: { caChain: caChain.statuses[0], knownGood: finalProblems },
        failures: Object.fromEntries([...kinds].map(([kind, { count, cases }]) => [kind, `${count}× (cases ${cases.join(', ')})`])),
      }).toEqual({ uncaughtExceptions: [], fuzzerErrors: [], afterTheRun: { caChain: 200, knownGood: [] }, failures: {} });
      if (!ONLY && CASES >= 2000) {
        // A fuzzer that never got past the front door would pass whatever the server did.
        expect(stats.issued).toBeGreaterThan(CASES * 0.05);
        expect(stats.withStatus(403)).toBeGreaterThan(CASES * 0.1);
        expect(stats.withStatus(400)).toBeGreaterThan(CASES * 0.1);
      }
    }, Math.max(280_000, CASES * 12 + 120_000));
  });
}
