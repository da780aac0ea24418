import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors';
import { FORM_FIELDS, unknownField, type SignBodyKind } from './sign_request';

// The sign route's own body reader, for the bodies nearly every client sends: a UTF-8 form or JSON
// object, no Content-Encoding. It gives what Express's parsers (signRequestParsers) give for such a
// body, with the same limits and the same errors, without their per-request cost (type-is, iconv,
// qs). Anything else a client sends — other media types, charsets, encodings — goes to Express.

/** Media types this reader parses, as the Content-Type names them (lower case, no parameters). */
const KINDS: Readonly<Record<string, SignBodyKind>> = { 'application/x-www-form-urlencoded': 'form', 'application/json': 'json' };
const UTF8_CHARSET = /^charset="?utf-8"?$/;

/** What this reader would parse the request's body as, or undefined when Express's parsers should. */
export function leanBodyKind(request: IncomingMessage): SignBodyKind | undefined {
  const { headers } = request;
  // A request without a body has no media type to Express (type-is): it answers those itself.
  if (headers['transfer-encoding'] === undefined && headers['content-length'] === undefined) return undefined;
  if (headers['content-encoding'] !== undefined) return undefined;
  const contentType = headers['content-type']?.toLowerCase();
  if (contentType === undefined) return undefined;
  const [type, ...parameters] = contentType.split(';').map((part) => part.trim());
  if (parameters.length > 1 || (parameters.length === 1 && !UTF8_CHARSET.test(parameters[0]))) return undefined;
  return KINDS[type];
}

/** Called once with the parsed body or why there is none; a failure is told in the event that caused it. */
export type BodyCallback = (error: unknown, body?: unknown) => void;

/**
 * Reads the whole body under `limit` bytes and `timeoutMs` (as signRequestParsers: 413 for a
 * Content-Length over the limit before a byte is read, or once a body passes it after it is read
 * off; 408 with the connection closed when the body is late; 400 when it is cut short or is not
 * the length it said), then parses it. Not a promise: a client that leaves mid-body must be
 * answered (and logged) in the same turn, before its response's 'close'.
 */
export function readLeanBody(request: IncomingMessage, kind: SignBodyKind, limit: number, timeoutMs: number, done: BodyCallback): void {
  const declared = request.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > limit) return done(new HttpError(413, 'body_too_large', `the request body is over the limit of ${limit} bytes`));
  const chunks: Buffer[] = [];
  let received = 0;
  let failure: HttpError | undefined;
  const finish = (error: HttpError | undefined, bytes?: Buffer) => {
    clearTimeout(timer);
    request.off('data', onData).off('end', onEnd).off('aborted', onAborted).off('error', onAborted);
    if (error) return done(error);
    let body: unknown;
    try {
      body = parseBody(kind, bytes!);
    } catch (parseError) {
      return done(parseError);
    }
    done(undefined, body);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (failure) return;
    // Past the limit the rest is read off and dropped, and the answer waits for its end.
    if (received > limit) {
      failure = new HttpError(413, 'body_too_large', 'the request body is over the size limit');
      chunks.length = 0;
    } else chunks.push(chunk);
  };
  const onEnd = () => {
    if (failure) return finish(failure);
    if (length !== undefined && received !== length) return finish(new HttpError(400, 'bad_body', 'the request body length does not match Content-Length'));
    finish(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
  };
  const onAborted = () => finish(failure ?? new HttpError(400, 'bad_body', 'the request body was cut short'));
  const timer = setTimeout(() => finish(new HttpError(408, 'body_timeout', `the request body did not arrive within ${timeoutMs / 1000} s`, { Connection: 'close' })), timeoutMs);
  request.on('data', onData).on('end', onEnd).on('aborted', onAborted).on('error', onAborted);
}

const MAX_FORM_FIELDS = FORM_FIELDS.size * 2;
const UNPARSABLE = (): HttpError => new HttpError(400, 'bad_body', 'the request body cannot be parsed');

function parseBody(kind: SignBodyKind, bytes: Buffer): unknown {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark is not content
  if (text.length === 0) return {};
  return kind === 'json' ? parseJson(text) : parseForm(text);
}

// RFC 8259 strict, as Express's JSON parser: an object or an array at the top.
function parseJson(text: string): unknown {
  const first = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d])/.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw UNPARSABLE();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw UNPARSABLE();
  }
}

/**
 * application/x-www-form-urlencoded as Express's parser reads it: `+` is a space, a %-escape that
 * does not decode stays as sent, empty names are skipped, a name given twice has a list of values
 * (which the sign request refuses), and more than 10 fields is a malformed body. A name that is not
 * a sign request's field is refused here, where the other parser kept it to be refused later.
 */
function parseForm(text: string): Record<string, string | string[]> {
  const parts = text.split('&');
  if (parts.length > MAX_FORM_FIELDS) throw new HttpError(400, 'bad_body', 'the request body has too many fields');
  const fields: Record<string, string | string[]> = {};
  for (const part of parts) {
    // As qs: a name ends at the first `]=`, else at the first `=`.
    const bracketEquals = part.indexOf(']=');
    const equals = bracketEquals < 0 ? part.indexOf('=') : bracketEquals + 1;
    const name = decodeFormText(equals < 0 ? part : part.slice(0, equals));
    if (name === '') continue;
    if (!FORM_FIELDS.has(name)) throw unknownField(name);
    const value = equals < 0 ? '' : decodeFormText(part.slice(equals + 1));
    const known = fields[name];
    fields[name] = known === undefined ? value : [...(Array.isArray(known) ? known : [known]), value];
  }
  return fields;
}

function decodeFormText(text: string): string {
  const spaced = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
