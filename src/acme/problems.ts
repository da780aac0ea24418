// ACME problem documents (RFC 8555 6.7, RFC 7807): every ACME error a client sees is one of these.

/** RFC 8555 6.7's error types (and RFC 9773's alreadyReplaced), with the status each is sent with. */
const PROBLEM_STATUS = {
  accountDoesNotExist: 400,
  alreadyReplaced: 409,
  alreadyRevoked: 400,
  badCSR: 400,
  badNonce: 400,
  badPublicKey: 400,
  badRevocationReason: 400,
  badSignatureAlgorithm: 400,
  caa: 403,
  compound: 403,
  connection: 400,
  dns: 400,
  externalAccountRequired: 403,
  incorrectResponse: 403,
  invalidContact: 400,
  malformed: 400,
  orderNotReady: 403,
  rateLimited: 429,
  rejectedIdentifier: 400,
  serverInternal: 500,
  tls: 400,
  unauthorized: 403,
  unsupportedContact: 400,
  unsupportedIdentifier: 400,
  userActionRequired: 403,
} as const;

export type ProblemType = keyof typeof PROBLEM_STATUS;

export interface AcmeIdentifier {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

/** A problem about one identifier of a request (RFC 8555 6.7.1). */
export interface Subproblem {
  readonly type: ProblemType;
  readonly detail: string;
  readonly identifier: AcmeIdentifier;
}

/** The JSON a problem is sent as, and stored as an authorization's or order's `error`. */
export interface ProblemDocument {
  readonly type: string;
  readonly detail: string;
  readonly status: number;
  readonly subproblems?: readonly { readonly type: string; readonly detail: string; readonly identifier: AcmeIdentifier }[];
  readonly algorithms?: readonly string[];
}

export const problemUrn = (type: ProblemType): string => `urn:ietf:params:acme:error:${type}`;

/** An ACME request refused with a problem document; its detail is safe to show the client. */
export class AcmeProblem extends Error {
  override readonly name = 'AcmeProblem';
  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly subproblems: readonly Subproblem[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }

  private statusOverride?: number;

  /** The RFC's status for the type, unless the resource's own answer differs (404 for a missing one, 409 for a conflict). */
  get status(): number {
    return this.statusOverride ?? PROBLEM_STATUS[this.type];
  }

  withStatus(status: number): this {
    this.statusOverride = status;
    return this;
  }

  document(extra: Partial<ProblemDocument> = {}): ProblemDocument {
    return {
      type: problemUrn(this.type),
      detail: this.detail,
      status: this.status,
      ...(this.subproblems.length > 0 ? { subproblems: this.subproblems.map((sub) => ({ type: problemUrn(sub.type), detail: sub.detail, identifier: sub.identifier })) } : {}),
      ...extra,
    };
  }
}
