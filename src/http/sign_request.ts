import { hash } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { TLSSocket, type DetailedPeerCertificate } from 'node:tls';
import type { Credentials } from '../auth/authenticator';
import { HttpError } from './errors';
import { parseMultipart } from './multipart';

/** What a sign request carries once its body is read, whatever form it came in. */
export interface SignRequestFields {
  readonly credentials: Credentials;
  /** The CSR as sent: text (PEM or base64) or bytes (DER upload). */
  readonly csr: string | Uint8Array;
  /** A shorter lifetime the requester asked for (`valid_hours`), in milliseconds. */
  readonly validityMs?: number;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The csr field when it was uploaded as a file (multipart). */
    files?: { readonly fieldname: string; readonly buffer: Buffer }[];
  }
}

export const FORM_FIELDS: ReadonlySet<string> = new Set(['user', 'secret', 'encoding', 'csr', 'valid_hours']);
const ENCODINGS = new Set(['pem', 'der']);
const CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json', 'application/pkcs10'];

/**
 * Body parsers for the sign route. Every body is read whole under one limit of `limit` bytes —
 * a Content-Length over it is refused before a byte is read, a chunked body once it passes it —
 * and only then parsed, multipart included. All of it must arrive within `timeoutMs`.
 */
export function signRequestParsers(limit: number, timeoutMs: number): RequestHandler {
  return withDeadline(timeoutMs, [
    (request: Request, _response: Response, next: NextFunction) => {
      const length = Number(request.headers['content-length'] ?? 0);
      if (length > limit) return next(new HttpError(413, 'body_too_large', `the request body is over the limit of ${limit} bytes`));
      if (!request.is(CONTENT_TYPES)) {
        return next(new HttpError(415, 'unsupported_media_type', `the Content-Type must be one of ${CONTENT_TYPES.join(', ')}`));
      }
      next();
    },
    // inflate: false — a compressed body is refused (415), never expanded past the limit.
    express.urlencoded({ extended: false, limit, parameterLimit: FORM_FIELDS.size * 2, inflate: false }),
    express.json({ limit, strict: true, inflate: false }),
    express.raw({ type: ['application/pkcs10', 'multipart/form-data'], limit, inflate: false }),
    async (request: Request, _response: Response, next: NextFunction) => {
      if (!request.is('multipart/form-data')) return next();
      try {
        const { fields, files } = await parseMultipart(request.body as Buffer, request.headers);
        const body: Record<string, string | string[]> = {};
        // A field given twice, as text or as a file, is ambiguous: which one would be signed?
        for (const { name, value } of [...fields, ...files.map((f) => ({ name: f.name, value: f.data }))]) {
          if (name in body || (name === 'csr' && request.files)) throw new HttpError(400, 'bad_field', `the ${name.slice(0, 64)} field is given more than once`);
          if (typeof value === 'string') body[name] = value;
          else if (name === 'csr') request.files = [{ fieldname: name, buffer: value }];
          else throw new HttpError(400, 'unknown_field', 'only the csr field may be a file');
        }
        request.body = body;
        next();
      } catch (error) {
        next(error);
      }
    },
  ]);
}

/**
 * Runs `handlers` in turn, as one, under a deadline. A body that trickles in would otherwise hold its
 * connection and an unauthenticated place for as long as the client likes: past the deadline the
 * answer is 408 and the connection is closed (RFC 9110 15.5.9), whatever of the body is still on its way.
 */
function withDeadline(timeoutMs: number, handlers: readonly RequestHandler[]): RequestHandler {
  return (request, response, next) => {
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return; // the reader's own error once the socket closes, after the 408
      done = true;
      clearTimeout(timer);
      next(error);
    };
    const timer = setTimeout(() => finish(new HttpError(408, 'body_timeout', `the request body did not arrive within ${timeoutMs / 1000} s`, { Connection: 'close' })), timeoutMs);
    const run = (index: number, error?: unknown): void => {
      if (error !== undefined || index === handlers.length) return finish(error);
      void handlers[index](request, response, (failure?: unknown) => run(index + 1, failure));
    };
    run(0);
  };
}

/** How a sign request's body came: each door of POST /v1/sign reads its fields its own way. */
export type SignBodyKind = 'form' | 'multipart' | 'json' | 'pkcs10';

/** How a body Express's parsers read (signRequestParsers) came. */
export function bodyKind(request: Request): SignBodyKind {
  return request.is('application/pkcs10') ? 'pkcs10' : request.is('application/json') ? 'json' : request.is('multipart/form-data') ? 'multipart' : 'form';
}

/**
 * Reads the CSR and credentials out of a parsed body: form fields, or JSON/PKCS#10 with HTTP Basic.
 * `body` is the parsed form or JSON (the bytes, for PKCS#10); `file` a csr uploaded as a file.
 */
export function readSignFields(request: Pick<IncomingMessage, 'headers' | 'socket'>, kind: SignBodyKind, body: unknown, file?: Buffer): SignRequestFields {
  const basic = headerCredentials(request);
  if (kind === 'pkcs10') {
    if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpError(400, 'missing_csr', 'the request body is empty; send the CSR');
    return { credentials: basic, csr: body };
  }
  const fields: Record<string, unknown> = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  if (kind === 'json' && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    throw new HttpError(400, 'bad_body', 'the JSON body must be an object such as {"csr": "-----BEGIN CERTIFICATE REQUEST-----..."}');
  }
  for (const key of Object.keys(fields)) {
    if (!FORM_FIELDS.has(key)) throw unknownField(key);
  }
  const user = textField(fields, 'user');
  const secret = textField(fields, 'secret');
  const encoding = textField(fields, 'encoding');
  if (encoding !== undefined && !ENCODINGS.has(encoding.toLowerCase())) throw new HttpError(400, 'bad_field', 'the encoding field must be pem');
  const csr = file ? new Uint8Array(file.buffer, file.byteOffset, file.byteLength) : textField(fields, 'csr');
  if (csr === undefined || csr.length === 0) throw new HttpError(400, 'missing_csr', 'the csr field is missing or empty');
  const credentials = user !== undefined || secret !== undefined ? { ...basic, user, secret } : basic;
  const validHours = fields.valid_hours;
  if (validHours === undefined) return { credentials, csr };
  const hours = typeof validHours === 'number' ? validHours : typeof validHours === 'string' && /^\d+(\.\d+)?$/.test(validHours) ? Number(validHours) : NaN;
  // At least a minute: a certificate must outlive the second it is issued in.
  if (!(hours * 60 >= 1)) throw new HttpError(400, 'bad_field', 'valid_hours must be a number of hours, at least 1 minute (0.0167)');
  return { credentials, csr, validityMs: hours * 3_600_000 };
}

/** A field of a sign request that is none of FORM_FIELDS. */
export const unknownField = (key: string): HttpError =>
  new HttpError(400, 'unknown_field', `unknown field ${JSON.stringify(key.slice(0, 64))}; expected ${[...FORM_FIELDS].join(', ')}`);

function textField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'bad_field', `the ${name} field must be a single string`);
  return value;
}

/**
 * What the request carries outside its body: HTTP Basic (RFC 7617) or a bearer token (RFC 6750)
 * in Authorization, and the TLS client certificate chain, if any.
 */
export function headerCredentials(request: Pick<IncomingMessage, 'headers' | 'socket'>): Credentials {
  const header = request.headers.authorization ?? '';
  const clientCertificates = peerCertificates(request.socket);
  const certificates = clientCertificates.length > 0 ? { clientCertificates } : {};
  const bearer = /^Bearer\s+([\x21-\x7e]+)\s*$/i.exec(header);
  if (bearer) return { bearer: bearer[1], ...certificates };
  const basic = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
  if (!basic) return certificates;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? certificates : { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1), ...certificates };
}

const CERTIFICATE_CLAIM = Buffer.from('certificate\u0000');

/**
 * Who credentials claim to be, before they are checked: the key of the authentication back-off.
 * A digest, so a client's made-up names cost a fixed few bytes of memory each.
 */
export function claimedIdentity(credentials: Credentials): string {
  if (credentials.user !== undefined) return hash('sha256', `user\u0000${credentials.user}`, 'base64');
  if (credentials.bearer !== undefined) return hash('sha256', `bearer\u0000${credentials.bearer}`, 'base64');
  return hash('sha256', Buffer.concat([CERTIFICATE_CLAIM, credentials.clientCertificates?.[0] ?? new Uint8Array()]), 'base64');
}

/** The client's certificate chain as sent in the handshake, its own first (empty over plain HTTP). */
function peerCertificates(socket: IncomingMessage['socket']): Uint8Array[] {
  if (!(socket instanceof TLSSocket)) return [];
  const chain: Uint8Array[] = [];
  let certificate = socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  while (certificate && 'raw' in certificate && certificate.raw && chain.length < 8) {
    chain.push(certificate.raw);
    if (!certificate.issuerCertificate || certificate.issuerCertificate === certificate) break;
    certificate = certificate.issuerCertificate;
  }
  return chain;
}
