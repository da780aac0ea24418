import { createHmac, timingSafeEqual, verify } from 'node:crypto';
import { algorithmFits, importJwk, JWS_ALGORITHMS, type AccountKey, type JwsAlgorithm } from './jwk';
import { AcmeProblem } from './problems';

/** A flattened JWS (RFC 7515 7.2.2), the body of every ACME POST (RFC 8555 6.2). */
export interface FlattenedJws {
  readonly protected: string;
  readonly payload: string;
  readonly signature: string;
}

export interface ProtectedHeader {
  readonly alg: JwsAlgorithm;
  readonly nonce?: string;
  readonly url: string;
  readonly jwk?: unknown;
  readonly kid?: string;
}

/** A JWS whose structure and header are checked; its signature is not yet. */
export interface ParsedJws {
  readonly jws: FlattenedJws;
  readonly header: ProtectedHeader;
  /** The payload decoded; undefined for POST-as-GET (an empty payload). */
  readonly payload: unknown;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeJson(part: string, what: string): unknown {
  if (!BASE64URL.test(part)) throw new AcmeProblem('malformed', `${what} is not base64url`);
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', `${what} is not base64url-encoded JSON`);
  }
}

/**
 * Checks a request body's JWS shape and protected header (RFC 8555 6.2): a known `alg` (never
 * `none`, never a MAC), `url`, and exactly one of `jwk` and `kid`. Nonce and url are compared by
 * the caller, which knows the request's URL.
 */
export function parseJws(body: unknown, options: { readonly requireNonce: boolean } = { requireNonce: true }): ParsedJws {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AcmeProblem('malformed', 'the body must be a flattened JWS object (Content-Type: application/jose+json)');
  const { protected: protectedPart, payload, signature } = body as Record<string, unknown>;
  if ('header' in body) throw new AcmeProblem('malformed', 'unprotected JWS headers are not allowed');
  if (typeof protectedPart !== 'string' || typeof payload !== 'string' || typeof signature !== 'string') throw new AcmeProblem('malformed', 'the JWS needs protected, payload and signature strings');
  if (!BASE64URL.test(signature)) throw new AcmeProblem('malformed', 'the signature is not base64url');
  const header = decodeJson(protectedPart, 'the protected header') as Record<string, unknown>;
  if (typeof header !== 'object' || header === null) throw new AcmeProblem('malformed', 'the protected header must be a JSON object');
  if (!JWS_ALGORITHMS.includes(header.alg as JwsAlgorithm)) {
    throw new AcmeProblem('badSignatureAlgorithm', `alg ${JSON.stringify(header.alg)} is not accepted; use one of ${JWS_ALGORITHMS.join(', ')}`);
  }
  if (typeof header.url !== 'string') throw new AcmeProblem('malformed', 'the protected header needs url');
  if (options.requireNonce && typeof header.nonce !== 'string') throw new AcmeProblem('badNonce', 'the protected header needs a nonce');
  if ((header.jwk === undefined) === (header.kid === undefined)) throw new AcmeProblem('malformed', 'the protected header needs exactly one of jwk and kid');
  if (header.kid !== undefined && typeof header.kid !== 'string') throw new AcmeProblem('malformed', 'kid must be a string');
  const decodedPayload = payload === '' ? undefined : decodeJson(payload, 'the payload');
  return { jws: { protected: protectedPart, payload, signature }, header: header as unknown as ProtectedHeader, payload: decodedPayload };
}

/** Verifies the JWS signature under the account key; a bad signature is `malformed` (RFC 8555 6.2). */
export function verifyJws(parsed: ParsedJws, key: AccountKey): void {
  const { alg } = parsed.header;
  if (!algorithmFits(alg, key.key)) throw new AcmeProblem('badSignatureAlgorithm', `alg ${alg} does not fit the account key`);
  const signingInput = Buffer.from(`${parsed.jws.protected}.${parsed.jws.payload}`);
  const signature = Buffer.from(parsed.jws.signature, 'base64url');
  const digest = alg === 'EdDSA' ? null : alg === 'ES384' ? 'sha384' : 'sha256';
  let valid = false;
  try {
    // ECDSA signatures in JWS are r‖s (RFC 7518 3.4), not DER.
    valid = verify(digest, signingInput, alg.startsWith('ES') ? { key: key.key, dsaEncoding: 'ieee-p1363' } : key.key, signature);
  } catch {
    valid = false;
  }
  if (!valid) throw new AcmeProblem('malformed', 'the JWS signature does not verify');
}

/** The key a JWS's `jwk` header carries (newAccount, revokeCert by certificate key, keyChange's inner JWS). */
export const headerKey = (parsed: ParsedJws): AccountKey => {
  if (parsed.header.jwk === undefined) throw new AcmeProblem('malformed', 'this request must be signed with a jwk header, not kid');
  return importJwk(parsed.header.jwk);
};

/** The kid of an external account binding (RFC 8555 7.3.4), read before its MAC key is looked up. */
export function externalAccountKid(value: unknown): string {
  if (typeof value !== 'object' || value === null) throw new AcmeProblem('malformed', 'externalAccountBinding must be a JWS object');
  const { protected: protectedPart } = value as Record<string, unknown>;
  if (typeof protectedPart !== 'string') throw new AcmeProblem('malformed', 'externalAccountBinding needs a protected header');
  const header = decodeJson(protectedPart, 'the externalAccountBinding header') as Record<string, unknown>;
  if (typeof header?.kid !== 'string') throw new AcmeProblem('malformed', 'externalAccountBinding needs a kid');
  return header.kid;
}

/**
 * External account binding (RFC 8555 7.3.4): a JWS over the account key, MACed with HS256 under the
 * key Mayfly gave out with its kid. Throws unless the MAC verifies and the bound key is the account key.
 */
export function verifyExternalAccountBinding(value: unknown, outerUrl: string, accountKey: AccountKey, macKey: Buffer): void {
  const { protected: protectedPart, payload, signature } = value as Record<string, unknown>;
  if (typeof payload !== 'string' || typeof signature !== 'string') throw new AcmeProblem('malformed', 'externalAccountBinding needs protected, payload and signature');
  const header = decodeJson(String(protectedPart), 'the externalAccountBinding header') as Record<string, unknown>;
  if (header.alg !== 'HS256') throw new AcmeProblem('badSignatureAlgorithm', 'externalAccountBinding must use HS256');
  if (header.url !== outerUrl) throw new AcmeProblem('unauthorized', 'externalAccountBinding url must be the newAccount URL');
  if ('nonce' in header) throw new AcmeProblem('malformed', 'externalAccountBinding must not carry a nonce');
  const expected = createHmac('sha256', macKey).update(`${String(protectedPart)}.${payload}`).digest();
  const given = Buffer.from(BASE64URL.test(signature) ? signature : '', 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AcmeProblem('unauthorized', 'the external account binding MAC does not verify');
  const bound = importJwk(decodeJson(payload, 'the externalAccountBinding payload'));
  if (bound.thumbprint !== accountKey.thumbprint) throw new AcmeProblem('unauthorized', 'externalAccountBinding binds a different key than the account key');
}
