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

// Errors thrown by body-parser and multer, by their `type` or `code`.
const BODY_ERRORS: Readonly<Record<string, [number, string, string]>> = {
  'entity.too.large': [413, 'body_too_large', 'the request body is over the size limit'],
  'entity.parse.failed': [400, 'bad_body', 'the request body cannot be parsed'],
  'entity.verify.failed': [400, 'bad_body', 'the request body cannot be parsed'],
  'request.aborted': [400, 'bad_body', 'the request body was cut short'],
  'request.size.invalid': [400, 'bad_body', 'the request body length does not match Content-Length'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'the request body encoding is not supported'],
  'charset.unsupported': [415, 'unsupported_charset', 'the request body charset is not supported'],
  'parameters.too.many': [413, 'body_too_large', 'the request body has too many fields'],
  LIMIT_PART_COUNT: [413, 'body_too_large', 'the multipart body has too many parts'],
  LIMIT_FILE_SIZE: [413, 'body_too_large', 'a multipart file is over the size limit'],
  LIMIT_FILE_COUNT: [413, 'body_too_large', 'the multipart body has too many files'],
  LIMIT_FIELD_KEY: [413, 'body_too_large', 'a multipart field name is too long'],
  LIMIT_FIELD_VALUE: [413, 'body_too_large', 'a multipart field is over the size limit'],
  LIMIT_FIELD_COUNT: [413, 'body_too_large', 'the multipart body has too many fields'],
  LIMIT_UNEXPECTED_FILE: [400, 'bad_body', 'unexpected file in the multipart body'],
  MISSING_FIELD_NAME: [400, 'bad_body', 'a multipart part has no field name'],
};

/** The one place where an error becomes a status code. Anything unrecognised is a 500 with no details. */
export function describeError(error: unknown): ErrorBody {
  const base = { headers: {}, reasons: [] };
  if (error instanceof HttpError) return { ...base, status: error.status, headers: error.headers, error: error.code, message: error.message };
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
  const known = bodyError(error);
  if (known) return { ...base, status: known[0], error: known[1], message: known[2] };
  return { ...base, status: 500, error: 'internal_error', message: 'an internal error occurred; nothing was signed' };
}

function bodyError(error: unknown): [number, string, string] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, code, name, message } = error as { type?: string; code?: string; name?: string; message?: string };
  const known = (type && BODY_ERRORS[type]) || (code && BODY_ERRORS[code]);
  if (known) return known;
  // busboy (under multer) reports malformed multipart bodies with plain Errors.
  if (name === 'Error' && message && /^(Multipart|Unexpected end of form|Malformed part header|Malformed urlencoded form)/.test(message)) {
    return [400, 'bad_body', 'the multipart body is malformed'];
  }
  return undefined;
}
