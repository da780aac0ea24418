// What can go wrong when a client asks Mayfly for a certificate, one class per kind of outcome, and
// the one place where each kind becomes an exit code of `mayfly request` and `mayfly agent --once`.

/** A validator's refusal, as the server returns it. */
export interface RefusalReason {
  readonly validator: string;
  readonly reason: string;
}

/** Bad arguments or a bad agent config: nothing was sent. Also an RA the server does not know. */
export class ClientUsageError extends Error {
  override readonly name = 'ClientUsageError';
}

/** 403 policy_refused: every validator that refused, and why. */
export class PolicyRefusedError extends Error {
  override readonly name = 'PolicyRefusedError';
  constructor(readonly reasons: readonly RefusalReason[]) {
    super(`refused by policy: ${reasons.map((r) => `${r.validator}: ${r.reason}`).join('; ') || 'no reason given'}`);
  }
}

/** 401: the server does not accept these credentials (or this client certificate). */
export class AuthenticationFailedError extends Error {
  override readonly name = 'AuthenticationFailedError';
}

/** No answer: connection refused, reset, a name that does not resolve, a timeout. */
export class ServerUnreachableError extends Error {
  override readonly name = 'ServerUnreachableError';
}

/**
 * The server or what it returned is not to be trusted: a root whose fingerprint differs, a TLS
 * certificate that does not chain to the pinned root, an issued certificate that does not match the
 * key or the chain. Never retried by a boot script: it is an attack or a misconfiguration.
 */
export class TrustError extends Error {
  override readonly name = 'TrustError';
}

/** The server answered, but with something else than a certificate: 5xx, 429, an unexpected body. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(
    message: string,
    readonly status?: number,
    /** From Retry-After, when the server said when to come back. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Exit codes of `mayfly request` (and `mayfly agent --once`). 1 stays what every mayfly command uses
 * for an unexpected fault.
 */
export const EXIT_CODES = {
  ok: 0,
  usage: 2,
  policyRefused: 3,
  authenticationFailed: 4,
  unreachable: 5,
  serverError: 6,
  trust: 7,
} as const;

export const EXIT_CODE_HELP = `Exit codes:
  0  the certificate and key are written
  1  anything unexpected (the files could not be written, say)
  2  usage or config error (nothing sent), or an RA the server does not know
  3  refused by policy (each validator's reason is printed)
  4  authentication failed
  5  server unreachable (connection refused, reset, timed out)
  6  server error (5xx, 429, an unexpected answer)
  7  trust failure: wrong root fingerprint, a server certificate that does not chain to the
     trusted root, or an issued certificate that does not match the key or chain`;

export function exitCodeOf(error: unknown): number {
  if (error instanceof ClientUsageError) return EXIT_CODES.usage;
  if (error instanceof PolicyRefusedError) return EXIT_CODES.policyRefused;
  if (error instanceof AuthenticationFailedError) return EXIT_CODES.authenticationFailed;
  if (error instanceof ServerUnreachableError) return EXIT_CODES.unreachable;
  if (error instanceof ServerError) return EXIT_CODES.serverError;
  if (error instanceof TrustError) return EXIT_CODES.trust;
  return 1;
}

/** Whether trying again later may help: a server down or busy. Policy, credentials and trust need a person. */
export function isTransient(error: unknown): boolean {
  return error instanceof ServerUnreachableError || error instanceof ServerError;
}
