import { AuditUnavailableError } from '../audit/ledger';
import { AuditFilterError } from '../audit/query_text';
import { UnsealedRecordError } from '../audit/record_proof';
import { CsrParseError } from '../csr/errors';
import { PolicyRejection } from '../policy/rejection';
import { SignerUnavailableError } from '../signers/signer';

/** An HTTP-level failure whose message is safe to show the client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const authenticationFailed = (): HttpError =>
  // Never say whether the user or the secret was wrong.
  new HttpError(401, 'authentication_failed', 'authentication failed', { 'WWW-Authenticate': 'Basic realm="mayfly", charset="UTF-8"' });

export interface ErrorBody {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly error: string;
  readonly message: string;
  readonly reasons: readonly { readonly validator: string; readonly reason: string }[];
}

// Errors thrown by body-parser, by their `type`.
const BODY_ERRORS: Readonly<Record<string, [number, string, string]>> = {
  'entity.too.large': [413, 'body_too_large', 'the request body is over the size limit'],
  'entity.parse.failed': [400, 'bad_body', 'the request body cannot be parsed'],
  'entity.verify.failed': [400, 'bad_body', 'the request body cannot be parsed'],
  'request.aborted': [400, 'bad_body', 'the request body was cut short'],
  'request.size.invalid': [400, 'bad_body', 'the request body length does not match Content-Length'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'the request body encoding is not supported'],
  'charset.unsupported': [415, 'unsupported_charset', 'the request body charset is not supported'],
  'parameters.too.many': [400, 'bad_body', 'the request body has too many fields'],
};

/** The one place where an error becomes a status code. Anything unrecognised is a 500 with no details. */
export function describeError(error: unknown): ErrorBody {
  const base = { headers: {}, reasons: [] };
  if (error instanceof HttpError) return { ...base, status: error.status, headers: error.headers, error: error.code, message: error.message };
  if (error instanceof AuditFilterError) return { ...base, status: 400, error: 'bad_query', message: error.message };
  // Proven once its writer signs the next checkpoint: GET /v1/audit/proof and the console's record page.
  if (error instanceof UnsealedRecordError) return { ...base, status: 409, error: 'unsealed', message: error.message };
  if (error instanceof CsrParseError) return { ...base, status: 400, error: 'bad_csr', message: error.message };
  if (error instanceof PolicyRejection) {
    return {
      ...base,
      status: 403,
      error: 'policy_refused',
      message: 'the request was refused by policy',
      reasons: error.refusals.flatMap((verdict) => verdict.reasons.map((reason) => ({ validator: verdict.validator, reason }))),
    };
  }
  if (error instanceof SignerUnavailableError) return { ...base, status: 503, headers: { 'Retry-After': '5' }, error: 'signer_unavailable', message: error.message };
  if (error instanceof AuditUnavailableError) {
    return { ...base, status: 503, headers: { 'Retry-After': '5' }, error: 'audit_unavailable', message: 'the audit ledger cannot record the decision; nothing was issued, try again' };
  }
  const known = bodyError(error);
  if (known) return { ...base, status: known[0], error: known[1], message: known[2] };
  return { ...base, status: 500, error: 'internal_error', message: 'an internal error occurred; nothing was signed' };
}

function bodyError(error: unknown): [number, string, string] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // A path whose percent-encoding does not decode (the router's URIError).
  if (error instanceof URIError) return [400, 'bad_path', 'the request path is not valid percent-encoding'];
  const { type, status, expose } = error as { type?: string; status?: number; expose?: boolean };
  if (type && BODY_ERRORS[type]) return BODY_ERRORS[type];
  // Other client errors from Express's own parts (a path that does not decode, say) carry a 4xx
  // status marked safe to expose; their text is not, so a generic message stands in.
  if (expose === true && typeof status === 'number' && status >= 400 && status < 500) return [status, 'bad_request', 'the request is malformed'];
  return undefined;
}
