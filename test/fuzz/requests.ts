// How a fuzz case travels: the four sign request encodings (form, multipart, JSON, PKCS#10), their
// credentials, and the PEM and base64 a CSR is wrapped in — each correct or broken on purpose.
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import type { Prng } from './prng';

/** A request node:http can send. Headers keep their order and may repeat. */
export interface HttpRequest {
  readonly type: 'http';
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** Sent with Transfer-Encoding: chunked in pieces of this size, instead of Content-Length. */
  readonly chunkSize?: number;
}

/** Bytes written as they are to a fresh TCP connection, for what no HTTP client would send. */
export interface RawRequest {
  readonly type: 'raw';
  readonly bytes: Buffer;
}

export type FuzzRequest = HttpRequest | RawRequest;

export const SIGN_PATH = '/v1/sign/default';
export const USER = 'deployer';

/** A CSR as it will be put in a request, and what a certificate may then be issued for. */
export interface CsrPayload {
  /** The text form (PEM, base64...) for text fields. */
  readonly text: string;
  /** The bytes for a file upload or a PKCS#10 body. */
  readonly bytes: Buffer;
  /** The DER requests a strict reader finds in this payload; empty when it must be refused. */
  readonly candidates: readonly Buffer[];
  readonly description: string;
}

// ---- PEM ----

export function pem(der: Buffer, label = 'CERTIFICATE REQUEST', lineLength = 64, eol = '\n'): string {
  const base64 = der.toString('base64');
  const lines = lineLength > 0 ? base64.match(new RegExp(`.{1,${lineLength}}`, 'g')) ?? [] : [base64];
  return `-----BEGIN ${label}-----${eol}${lines.join(eol)}${eol}-----END ${label}-----${eol}`;
}

/** A DER request as a well-formed payload: PEM text, DER bytes. */
export const plainPayload = (der: Buffer, description: string): CsrPayload => ({ text: pem(der), bytes: der, candidates: [der], description });

/**
 * PEM and base64 gone wrong, or merely unusual. Labels that name something other than a CSR, and
 * more than one block, must be refused; cosmetic changes and corrupted base64 may decode to the same
 * request (then it may be issued) or to another (then its signature fails).
 */
export function pemVariant(rng: Prng, der: Buffer, other: Buffer): CsrPayload {
  const base64 = der.toString('base64');
  const wrapped = pem(der);
  const body = (text: string) => `-----BEGIN CERTIFICATE REQUEST-----\n${text}\n-----END CERTIFICATE REQUEST-----\n`;
  const lines = base64.match(/.{1,64}/g) ?? [];
  const at = rng.below(base64.length);
  const same = (text: string, description: string): CsrPayload => ({ text, bytes: Buffer.from(text, 'latin1'), candidates: [der], description });
  const refuse = (text: string, description: string): CsrPayload => ({ text, bytes: Buffer.from(text, 'latin1'), candidates: [], description });
  const variants: (() => CsrPayload)[] = [
    () => same(pem(der, 'NEW CERTIFICATE REQUEST'), 'label NEW CERTIFICATE REQUEST'),
    () => same(pem(der, undefined, 64, '\r\n'), 'CRLF line ends'),
    () => same(pem(der, undefined, 0), 'base64 on one line'),
    () => same(pem(der, undefined, rng.pick([1, 3, 76, 1000])), 'odd line length'),
    () => same(`Certificate Request:\n    Subject: whatever\n${wrapped}trailing text\n`, 'explanatory text around the block'),
    () => same(wrapped.replace(/\n/g, ' \t\n'), 'trailing whitespace on lines'),
    () => same(wrapped.trimEnd(), 'no final newline'),
    () => same(`\n\n   ${wrapped}\n\n`, 'blank lines around'),
    () => same(body(lines.join('\n\n')), 'blank lines inside the base64'),
    () => same(body(base64.replace(/=+$/, '')), 'padding removed'),
    () => same(body(`${base64.slice(0, at)}${rng.pick(['!', '*', '.', '\u0000', 'é', '~', '"', ' ', '\t'])}${base64.slice(at)}`), 'a stray character in the base64'),
    () => same(body(base64.replace(/\+/g, '-').replace(/\//g, '_')), 'url-safe base64 alphabet'),
    () => same(body(`${base64}====`), 'extra padding'),
    () => same(body(`${base64.slice(0, at)}=${base64.slice(at)}`), 'padding in the middle'),
    () => same(body(`${base64.slice(0, at)}${base64.slice(at + 1)}`), 'one base64 character deleted'),
    () => same(body(`${base64.slice(0, at)}A${base64.slice(at)}`), 'one base64 character inserted'),
    () => same(body(base64.slice(0, at)), 'base64 cut short'),
    () => same(`-----BEGIN CERTIFICATE REQUEST-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`, 'RFC 1421 headers'),
    () => same(wrapped.replace('-----END CERTIFICATE REQUEST-----', '-----END CERTIFICATE-----'), 'END label does not match'),
    () => same(wrapped.replace('-----END CERTIFICATE REQUEST-----\n', ''), 'no END line'),
    () => same(wrapped.replace(/-----/g, '----'), 'four dashes'),
    () => same(pem(der, 'certificate request'), 'lower-case label'),
    () => same(pem(der, 'CERTIFICATE REQUEST '), 'label with a trailing space'),
    () => same(base64, 'bare base64'),
    () => same(lines.join('\r\n'), 'bare base64 in lines'),
    () => same(`  ${base64}\n`, 'bare base64 with whitespace'),
    () => same(base64.replace(/=+$/, ''), 'bare base64 without padding'),
    () => same(`${base64.slice(0, at)}%${base64.slice(at)}`, 'bare base64 with a stray %'),
    () => same(Buffer.from(wrapped, 'latin1').toString('base64'), 'the PEM itself base64-encoded'),
    () => refuse(pem(der, rng.pick(['CERTIFICATE', 'PRIVATE KEY', 'X509 CRL', 'PKCS7', 'PUBLIC KEY', 'CERTIFICATE REQUESTX', 'ATTRIBUTE CERTIFICATE', 'CMS'])), 'a label that is not a CSR'),
    () => refuse(`${pem(der)}${pem(other)}`, 'two CSR blocks'),
    () => refuse(`${pem(other, 'CERTIFICATE')}${pem(der)}`, 'a CERTIFICATE block, then the CSR'),
    () => refuse(`${pem(der)}${pem(other, 'PRIVATE KEY')}`, 'the CSR, then a PRIVATE KEY block'),
    () => same(`-----BEGIN CERTIFICATE REQUEST-----\n${pem(der)}-----END CERTIFICATE REQUEST-----\n`, 'a block inside a block'),
    () => refuse('-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n', 'an empty block'),
  ];
  return rng.pick(variants)();
}

// ---- credentials ----

/** Credentials for one request, and whether they must authenticate. */
export interface CredentialChoice {
  /** user/secret body fields (form, multipart or JSON). */
  readonly fields: readonly (readonly [string, string])[];
  readonly authorization?: string;
  /** 'yes': these are the deployer's; 'no': a certificate would be an authentication bypass. */
  readonly valid: 'yes' | 'no' | 'either';
  readonly description: string;
}

export const basic = (user: string, secret: string, scheme = 'Basic', separator = ' '): string => `${scheme}${separator}${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;

/**
 * Valid credentials (in fields or Basic), or one of a fixed set of broken ones. The set is fixed so
 * that each wrong secret costs its scrypt once per run; `fresh` adds an unseen one now and then.
 */
export function credentialChoice(rng: Prng, secret: string, inBody: boolean, broken: boolean): CredentialChoice {
  const fields = (user: string, pass: string): (readonly [string, string])[] => [['user', user], ['secret', pass]];
  const good = (description: string, choice: Partial<CredentialChoice>): CredentialChoice => ({ fields: [], valid: 'yes', description, ...choice });
  const bad = (description: string, choice: Partial<CredentialChoice>): CredentialChoice => ({ fields: [], valid: 'no', description, ...choice });
  if (!broken) return inBody && rng.chance(0.85) ? good('fields', { fields: fields(USER, secret) }) : good('Basic', { authorization: basic(USER, secret) });
  const variants: (() => CredentialChoice)[] = [
    () => good('basic, lower-case scheme', { authorization: basic(USER, secret, 'basic') }),
    () => good('BASIC', { authorization: basic(USER, secret, 'BASIC') }),
    () => good('Basic with two spaces', { authorization: basic(USER, secret, 'Basic', '  ') }),
    () => good('Basic with a tab', { authorization: basic(USER, secret, 'Basic', '\t') }),
    () => good('Basic with trailing space', { authorization: `${basic(USER, secret)}  ` }),
    () => ({ fields: [], authorization: basic(USER, secret).replace(/=+$/, ''), valid: 'either', description: 'Basic without padding' }),
    () => ({ fields: fields(USER, secret), authorization: basic(USER, secret), valid: 'yes', description: 'fields and Basic, both right' }),
    () => ({ fields: [['user', USER]], authorization: basic(USER, secret), valid: 'either', description: 'user field only, Basic right' }),
    () => bad('fields wrong, Basic right', { fields: fields(USER, 'wrong'), authorization: basic(USER, secret) }),
    () => bad('no credentials', {}),
    () => bad('wrong secret', inBody ? { fields: fields(USER, 'wrong') } : { authorization: basic(USER, 'wrong') }),
    () => bad('secret with one more character', { authorization: basic(USER, `${secret}x`) }),
    () => bad('secret with its last character cut', { authorization: basic(USER, secret.slice(0, -1)) }),
    () => bad('secret in upper case', { authorization: basic(USER, secret.toUpperCase()) }),
    () => bad('user Deployer', { authorization: basic('Deployer', secret) }),
    () => bad('empty user', { authorization: basic('', secret) }),
    () => bad('user with a trailing space', inBody ? { fields: fields(`${USER} `, secret) } : { authorization: basic(`${USER} `, secret) }),
    () => bad('user with a NUL', { authorization: basic(`${USER}\u0000`, secret) }),
    () => bad('empty secret', inBody ? { fields: fields(USER, '') } : { authorization: basic(USER, '') }),
    () => bad('secret with a newline', { authorization: basic(USER, `${secret}\n`) }),
    () => bad('Bearer <secret>', { authorization: `Bearer ${secret}` }),
    () => bad('Basic !!!', { authorization: 'Basic !!!' }),
    () => bad('Basic without a colon', { authorization: `Basic ${Buffer.from(USER + secret).toString('base64')}` }),
    () => bad('Basic :deployer:secret', { authorization: basic('', `${USER}:${secret}`) }),
    () => bad('Digest', { authorization: `Digest username="${USER}", response="${secret}"` }),
    () => bad('Basic with a latin-1 user', { authorization: `Basic ${Buffer.from(`d\u00e9ployer:${secret}`, 'latin1').toString('base64')}` }),
    () => bad('an 8 KiB secret', { authorization: basic(USER, 'x'.repeat(8192)) }),
    () => bad('Basic twice', { authorization: `${basic(USER, secret)}, ${basic(USER, 'x')}` }),
    () => bad('a fresh wrong secret', { authorization: basic(USER, `fresh-${rng.next().toString(36)}`) }),
  ];
  // A fresh wrong secret costs a full scrypt (the others are remembered after their first); keep them rare.
  if (rng.chance(1 / 300)) return variants[variants.length - 1]();
  // Without body fields (JSON or PKCS#10 bodies) only the Authorization header counts.
  const usable = variants.slice(0, -1).map((variant) => variant()).filter((choice) => inBody || choice.fields.length === 0);
  return rng.pick(usable);
}

// ---- sign requests ----

export const ACCEPTS = ['application/json', 'text/plain', '*/*', 'application/json;q=0', 'text/html', 'application/*', '', 'garbage/,,;;', 'application/json, text/plain;q=0.5', 'text/*;q=0.1, application/json;q=0.2', `${'x/y, '.repeat(200)}application/json`, 'application/pkix-cert', 'application/json; charset=utf-16'];

export interface SignOptions {
  readonly accept?: string;
  /** valid_hours as sent (a string in forms, a string or number in JSON). */
  readonly validHours?: string | number;
  /** Extra or repeated fields, after the usual ones. */
  readonly extraFields?: readonly (readonly [string, string])[];
  readonly chunkSize?: number;
  readonly contentType?: string;
  readonly path?: string;
}

export type Carrier = 'form-pem' | 'form-text' | 'multipart-file' | 'multipart-file-pem' | 'multipart-text' | 'json' | 'json-fields' | 'pkcs10' | 'pkcs10-text';
export const CARRIERS: readonly (readonly [number, Carrier])[] = [[26, 'form-pem'], [4, 'form-text'], [12, 'multipart-file'], [6, 'multipart-file-pem'], [5, 'multipart-text'], [14, 'json'], [4, 'json-fields'], [25, 'pkcs10'], [4, 'pkcs10-text']];

/** Whether a carrier sends credentials in the body (else in Authorization). */
export const carriesFields = (carrier: Carrier): boolean => carrier.startsWith('form') || carrier.startsWith('multipart') || carrier === 'json-fields';

const urlencoded = (fields: readonly (readonly [string, string])[]): Buffer =>
  Buffer.from(fields.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&'), 'utf8');

export interface Part {
  readonly name: string;
  readonly value: string | Buffer;
  readonly filename?: string;
  readonly contentType?: string;
}

export function multipart(boundary: string, parts: readonly Part[], eol = '\r\n', close = true): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    const type = part.contentType ?? (part.filename !== undefined ? 'application/octet-stream' : undefined);
    chunks.push(Buffer.from(`--${boundary}${eol}Content-Disposition: ${disposition}${eol}${type ? `Content-Type: ${type}${eol}` : ''}${eol}`, 'utf8'));
    chunks.push(typeof part.value === 'string' ? Buffer.from(part.value, 'utf8') : part.value);
    chunks.push(Buffer.from(eol, 'utf8'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--${eol}`, 'utf8'));
  return Buffer.concat(chunks);
}

/** A sign request carrying `payload` with `credentials` in the chosen encoding. */
export function signRequest(carrier: Carrier, payload: CsrPayload, credentials: CredentialChoice, options: SignOptions = {}): HttpRequest {
  const headers: [string, string][] = [];
  if (credentials.authorization !== undefined) headers.push(['Authorization', credentials.authorization]);
  if (options.accept !== undefined) headers.push(['Accept', options.accept]);
  const hours: (readonly [string, string])[] = options.validHours === undefined ? [] : [['valid_hours', String(options.validHours)]];
  const extra = options.extraFields ?? [];
  let body: Buffer;
  let contentType: string;
  switch (carrier) {
    case 'form-pem':
    case 'form-text': {
      const encoding: (readonly [string, string])[] = carrier === 'form-pem' ? [['encoding', 'pem']] : [];
      body = urlencoded([...credentials.fields, ...encoding, ['csr', payload.text], ...hours, ...extra]);
      contentType = 'application/x-www-form-urlencoded';
      break;
    }
    case 'multipart-file':
    case 'multipart-file-pem':
    case 'multipart-text': {
      const boundary = `----mayflyfuzz${payload.bytes.length}x${credentials.fields.length}`;
      const csrPart: Part = carrier === 'multipart-text'
        ? { name: 'csr', value: payload.text }
        : { name: 'csr', value: carrier === 'multipart-file' ? payload.bytes : Buffer.from(payload.text, 'latin1'), filename: carrier === 'multipart-file' ? 'svc.der' : 'svc.csr' };
      const text = (entries: readonly (readonly [string, string])[]): Part[] => entries.map(([name, value]) => ({ name, value }));
      body = multipart(boundary, [...text(credentials.fields), { name: 'encoding', value: 'pem' }, csrPart, ...text(hours), ...text(extra)]);
      contentType = `multipart/form-data; boundary=${boundary}`;
      break;
    }
    case 'json':
    case 'json-fields': {
      const object: Record<string, string | number> = Object.fromEntries(carrier === 'json-fields' ? credentials.fields : []);
      object.csr = payload.text;
      if (options.validHours !== undefined) object.valid_hours = options.validHours;
      for (const [name, value] of extra) object[name] = value;
      body = Buffer.from(JSON.stringify(object), 'utf8');
      contentType = 'application/json';
      break;
    }
    case 'pkcs10':
      body = payload.bytes;
      contentType = 'application/pkcs10';
      break;
    case 'pkcs10-text':
      body = Buffer.from(payload.text, 'latin1');
      contentType = 'application/pkcs10';
      break;
  }
  headers.push(['Content-Type', options.contentType ?? contentType]);
  return { type: 'http', method: 'POST', path: options.path ?? SIGN_PATH, headers, body, ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}) };
}

/**
 * valid_hours values, and whether Mayfly must accept them ('yes': the lifetime is then at most
 * min(hours, 24)), must refuse them (a certificate would be issued on a malformed field), or may do
 * either (the README does not say how a number is written).
 */
export const VALID_HOURS: readonly { readonly value: string | number; readonly accept: 'yes' | 'no' | 'either'; readonly hours: number }[] = [
  { value: '1', accept: 'yes', hours: 1 },
  { value: '0.5', accept: 'yes', hours: 0.5 },
  { value: '24', accept: 'yes', hours: 24 },
  { value: '48', accept: 'yes', hours: 48 },
  { value: '100000', accept: 'yes', hours: 100000 },
  { value: '0.01', accept: 'yes', hours: 0.01 },
  { value: '0.0001', accept: 'yes', hours: 0.0001 },
  { value: '0.0000001', accept: 'yes', hours: 0.0000001 },
  { value: '0', accept: 'no', hours: 0 },
  { value: '-1', accept: 'no', hours: 0 },
  { value: '', accept: 'no', hours: 0 },
  { value: 'NaN', accept: 'no', hours: 0 },
  { value: 'forever', accept: 'no', hours: 0 },
  { value: '-0.5', accept: 'no', hours: 0 },
  { value: '1e3', accept: 'either', hours: 24 },
  { value: ' 1', accept: 'either', hours: 24 },
  { value: '1.', accept: 'either', hours: 24 },
  { value: '.5', accept: 'either', hours: 24 },
  { value: 'Infinity', accept: 'either', hours: 24 },
  { value: '\u0967', accept: 'either', hours: 24 },
  { value: '0x10', accept: 'either', hours: 24 },
  { value: '1,5', accept: 'either', hours: 24 },
  { value: '00000', accept: 'no', hours: 0 },
  { value: '0.0', accept: 'no', hours: 0 },
  { value: 1, accept: 'yes', hours: 1 },
  { value: 0.25, accept: 'yes', hours: 0.25 },
  { value: 1e-9, accept: 'yes', hours: 1e-9 },
  { value: 1e308, accept: 'yes', hours: 1e308 },
  { value: -1, accept: 'no', hours: 0 },
  { value: 0, accept: 'no', hours: 0 },
];

/** Compresses `body` as Content-Encoding `encoding` names, or garbles it. */
export function encodeBody(encoding: string, body: Buffer, garble: boolean): Buffer {
  if (garble) return Buffer.concat([Buffer.of(0x1f, 0x8b, 0x08, 0x00), body.subarray(0, 64)]);
  switch (encoding.toLowerCase()) {
    case 'gzip':
      return gzipSync(body);
    case 'deflate':
      return deflateSync(body);
    case 'br':
      return brotliCompressSync(body);
    default:
      return body;
  }
}
