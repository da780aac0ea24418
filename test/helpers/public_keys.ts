// Hostile and unusual SubjectPublicKeyInfos, and requests that carry them, written byte for byte
// (with the independent TLV writer, not src/der.ts): the point at infinity, hybrid and compressed
// points, RSA keys with e = 1, and the "signatures" such keys make possible without a private key.
import { createHash, sign, type KeyObject } from 'node:crypto';
import { hex, tlv } from '../unit/support/asn1';

/** RFC 5480 2.1.1.1 namedCurve OIDs (DER), and the octets of one coordinate. */
export const CURVES = {
  'P-256': { oid: hex('06082a8648ce3d030107'), octets: 32 },
  'P-384': { oid: hex('06052b81040022'), octets: 48 },
  'P-521': { oid: hex('06052b81040023'), octets: 66 },
  secp256k1: { oid: hex('06052b8104000a'), octets: 32 },
} as const;
export type CurveName = keyof typeof CURVES;

const EC_PUBLIC_KEY = hex('06072a8648ce3d0201');
const RSA_ENCRYPTION = hex('06092a864886f70d010101');
const NULL = hex('0500');
export const ALGORITHM = {
  ecdsaWithSha256: tlv(0x30, hex('06082a8648ce3d040302')),
  sha256WithRsa: tlv(0x30, hex('06092a864886f70d01010b'), NULL),
  ed25519: tlv(0x30, hex('06032b6570')),
};

/** An id-ecPublicKey SubjectPublicKeyInfo with `point` on `curve` (or any parameters given as DER). */
export const ecSpki = (curve: CurveName | Buffer, point: Uint8Array): Buffer =>
  tlv(0x30, tlv(0x30, EC_PUBLIC_KEY, Buffer.isBuffer(curve) ? curve : CURVES[curve].oid), tlv(0x03, hex('00'), point));

/** An rsaEncryption SubjectPublicKeyInfo (RFC 3279 2.3.1) of any modulus and exponent. */
export const rsaSpki = (modulus: bigint, exponent: bigint): Buffer =>
  tlv(0x30, tlv(0x30, RSA_ENCRYPTION, NULL), tlv(0x03, hex('00'), tlv(0x30, derInteger(modulus), derInteger(exponent))));

function derInteger(value: bigint): Buffer {
  let text = value.toString(16);
  if (text.length % 2) text = `0${text}`;
  const octets = Buffer.from(text, 'hex');
  return tlv(0x02, octets[0] & 0x80 ? Buffer.concat([hex('00'), octets]) : octets);
}

const coordinate = (jwkValue: string | undefined): Buffer => Buffer.from(jwkValue!, 'base64url');

/** SEC 1 2.3.3 encodings of one EC public key: uncompressed (04), compressed (02/03), hybrid (06/07). */
export function pointForms(publicKey: KeyObject): { uncompressed: Buffer; compressed: Buffer; hybrid: Buffer } {
  const { x, y } = publicKey.export({ format: 'jwk' });
  const [xOctets, yOctets] = [coordinate(x), coordinate(y)];
  const odd = yOctets[yOctets.length - 1] & 1;
  return {
    uncompressed: Buffer.concat([hex('04'), xOctets, yOctets]),
    compressed: Buffer.concat([Buffer.of(0x02 | odd), xOctets]),
    hybrid: Buffer.concat([Buffer.of(0x06 | odd), xOctets, yOctets]),
  };
}

/** An RSA public key's modulus, from its JWK. */
export const rsaModulus = (publicKey: KeyObject): bigint => BigInt(`0x${coordinate(publicKey.export({ format: 'jwk' }).n).toString('hex')}`);

/** RFC 2986 4.1 certificationRequestInfo: subject CN=`name`, the key, and a subjectAltName of `name`. */
export function requestInfo(spki: Uint8Array, name = 'svc.mayfly.test'): Buffer {
  const subject = tlv(0x30, tlv(0x31, tlv(0x30, hex('0603550403'), tlv(0x0c, Buffer.from(name)))));
  const san = tlv(0x30, hex('0603551d11'), tlv(0x04, tlv(0x30, tlv(0x82, Buffer.from(name)))));
  const extensionRequest = tlv(0x30, hex('06092a864886f70d01090e'), tlv(0x31, tlv(0x30, san)));
  return tlv(0x30, hex('020100'), subject, spki, tlv(0xa0, extensionRequest));
}

/** RFC 2986 4: the request, from its info, the announced algorithm and the signature value. */
export const certificationRequest = (info: Uint8Array, algorithm: Uint8Array, signature: Uint8Array): Buffer =>
  tlv(0x30, info, algorithm, tlv(0x03, hex('00'), signature));

/** A request for `spki` whose info `privateKey` signs (ECDSA or RSA with SHA-256, or EdDSA). */
export function signedRequest(spki: Uint8Array, privateKey: KeyObject, name?: string): Buffer {
  const info = requestInfo(spki, name);
  const type = privateKey.asymmetricKeyType;
  const algorithm = type === 'ec' ? ALGORITHM.ecdsaWithSha256 : type === 'rsa' ? ALGORITHM.sha256WithRsa : ALGORITHM.ed25519;
  return certificationRequest(info, algorithm, sign(type === 'ed25519' ? null : 'sha256', info, privateKey));
}

/**
 * RFC 8017 9.2 EMSA-PKCS1-v1_5 with SHA-256: what an RSA signature is before the private-key
 * operation. Under e = 1 it is also the signature, so anyone can "sign" for such a key.
 */
export function pkcs1Sha256Encoded(message: Uint8Array, modulusOctets: number): Buffer {
  const digestInfo = Buffer.concat([hex('3031300d060960864801650304020105000420'), createHash('sha256').update(message).digest()]);
  return Buffer.concat([hex('0001'), Buffer.alloc(modulusOctets - 3 - digestInfo.length, 0xff), hex('00'), digestInfo]);
}

/** A request for an RSA key of modulus `modulus` and e = 1, "signed" with no private key at all. */
export function exponentOneRequest(modulus: bigint, name?: string): Buffer {
  const info = requestInfo(rsaSpki(modulus, 1n), name);
  return certificationRequest(info, ALGORITHM.sha256WithRsa, pkcs1Sha256Encoded(info, Math.ceil(modulus.toString(2).length / 8)));
}

/** An Ed25519 request for the identity point (y = 1), "signed" with R = identity, S = 0. */
export function ed25519IdentityRequest(name?: string): Buffer {
  const identity = Buffer.concat([hex('01'), Buffer.alloc(31)]);
  const info = requestInfo(tlv(0x30, tlv(0x30, hex('06032b6570')), tlv(0x03, hex('00'), identity)), name);
  return certificationRequest(info, ALGORITHM.ed25519, Buffer.concat([identity, Buffer.alloc(32)]));
}

/** PEM of a DER request. */
export const requestPem = (der: Uint8Array): string =>
  `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE REQUEST-----\n`;
