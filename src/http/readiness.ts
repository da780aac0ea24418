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
  private last?: { readonly at: number; readonly report: Promise<ReadinessReport> };

  constructor(
    private readonly runtime: () => Runtime,
    private readonly ledger: Ledger,
  ) {}

  check(): Promise<ReadinessReport> {
    if (this.last && Date.now() - this.last.at < REUSE_MS) return this.last.report;
    const report = this.probe();
    this.last = { at: Date.now(), report };
    return report;
  }

  private async probe(): Promise<ReadinessReport> {
    const runtime = this.runtime();
    const entries: [string, Promise<string | undefined>][] = [
      ['config', Promise.resolve(runtime.registrationAuthorities.size > 0 ? undefined : 'no registration authority is configured')],
      ...[...runtime.signingCas.values()].map((ca): [string, Promise<string | undefined>] => [`signer ${ca.name}`, withTimeout(signerProblem(ca))]),
      ['ledger', withTimeout(this.ledger.problem())],
    ];
    const checks: Record<string, string> = {};
    for (const [name, problem] of entries) checks[name] = (await problem.catch((error: unknown) => errorMessage(error))) ?? 'ok';
    const failing = Object.keys(checks).filter((name) => checks[name] !== 'ok');
    return { ready: failing.length === 0, checks, failing };
  }
}

async function signerProblem(ca: SigningCa): Promise<string | undefined> {
  const digest = randomBytes(32);
  const signature = await ca.signer.sign(digest);
  const publicKey = createPublicKey({ key: Buffer.from(ca.signer.publicKey), format: 'der', type: 'spki' });
  return verify(signatureSchemeFor(publicKey).digest, digest, { key: publicKey, dsaEncoding: 'der' }, signature) ? undefined : 'the test signature does not verify';
}

function withTimeout(problem: Promise<string | undefined>): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`), PROBE_TIMEOUT_MS);
  });
  return Promise.race([problem, timeout]).finally(() => clearTimeout(timer));
}
