import { createPublicKey, randomBytes, verify } from 'node:crypto';
import type { Ledger } from '../audit/ledger';
import type { Runtime } from '../config/assemble';
import { errorMessage } from '../error_message';
import { signatureSchemeFor } from '../signers/algorithms';
import type { SigningCa } from '../signers/signing_ca';

export interface ReadinessReport {
  readonly ready: boolean;
  /** Each part by name ("config", "signer <name>", "ledger"): "ok" or what is wrong. */
  readonly checks: Readonly<Record<string, string>>;
  /** The names of the parts that are not ok. */
  readonly failing: readonly string[];
}

/** A probe answered within this many ms or counted as failed: a hung token is not ready. */
const PROBE_TIMEOUT_MS = 5000;
/** Answers this recent are reused, so that an unauthenticated /readyz cannot keep the CA key busy. */
const REUSE_MS = 1000;

/**
 * /readyz: the config is loaded, every signing CA's signer signs a test digest that verifies
 * under its certificate's key, and the audit ledger can be written.
 */
export class Readiness {
  private last?: { readonly report: Promise<ReadinessReport>; settledAt?: number };
  private shuttingDown = false;

  constructor(
    private readonly runtime: () => Runtime,
    private readonly ledger: Ledger,
  ) {}

  /** From here on not ready: the server is draining, and a load balancer should send its requests elsewhere. */
  shutDown(): void {
    this.shuttingDown = true;
  }

  /** The probe in progress, or one that ended under REUSE_MS ago, else a new one. */
  check(): Promise<ReadinessReport> {
    if (this.shuttingDown) return Promise.resolve({ ready: false, checks: { server: 'shutting down' }, failing: ['server'] });
    const last = this.last;
    if (last && (last.settledAt === undefined || Date.now() - last.settledAt < REUSE_MS)) return last.report;
    const report = this.probe();
    const current: { readonly report: Promise<ReadinessReport>; settledAt?: number } = { report };
    void report.then(() => (current.settledAt = Date.now()));
    this.last = current;
    return report;
  }

  private async probe(): Promise<ReadinessReport> {
    const runtime = this.runtime();
    // Every probe runs at once, each with its failure caught where it starts (none left unhandled).
    const problems: [string, Promise<string | undefined>][] = [
      ['config', Promise.resolve(runtime.registrationAuthorities.size > 0 ? undefined : 'no registration authority is configured')],
      ...[...runtime.signingCas.values()].map((ca): [string, Promise<string | undefined>] => [`signer ${ca.name}`, withTimeout(signerProblem(ca))]),
      ['ledger', withTimeout(this.ledger.problem())],
    ];
    const settled = await Promise.all(problems.map(async ([name, problem]) => [name, (await problem) ?? 'ok'] as const));
    const checks = Object.fromEntries(settled);
    const failing = settled.filter(([, result]) => result !== 'ok').map(([name]) => name);
    return { ready: failing.length === 0, checks, failing };
  }
}

async function signerProblem(ca: SigningCa): Promise<string | undefined> {
  const digest = randomBytes(32);
  const signature = await ca.signer.sign(digest);
  const publicKey = createPublicKey({ key: Buffer.from(ca.signer.publicKey), format: 'der', type: 'spki' });
  return verify(signatureSchemeFor(publicKey).digest, digest, { key: publicKey, dsaEncoding: 'der' }, signature) ? undefined : 'the test signature does not verify';
}

/** The problem, or why the probe failed, or that it gave no answer in time; never a rejection. */
function withTimeout(probe: Promise<string | undefined>): Promise<string | undefined> {
  const problem = probe.catch((error: unknown) => errorMessage(error));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`), PROBE_TIMEOUT_MS);
  });
  return Promise.race([problem, timeout]).finally(() => clearTimeout(timer));
}
