// Distinct P-256 leaf CSRs for the load generator, made before any timing. A small DER writer of
// its own, not src/der.ts: the benchmark should not share a bug with the code it measures.
import { generateKeyPairSync, sign } from 'node:crypto';

/** X.690 8.1.3: definite length, short form below 128, long form above. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.of(0x80 | bytes.length, ...bytes);
}

const tlv = (tag: number, ...content: Uint8Array[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.of(tag), encodeLength(body.length), body]);
};

const sequence = (...content: Uint8Array[]) => tlv(0x30, ...content);
const set = (...content: Uint8Array[]) => tlv(0x31, ...content);

/** X.690 8.19: the first two arcs in one octet, then base-128 with continuation bits. */
function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) chunk.unshift((rest & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const OID_COMMON_NAME = '2.5.4.3';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/** One request: its DNS name and the CSR as PEM. */
export interface BenchCsr {
  readonly name: string;
  readonly pem: string;
}

/**
 * RFC 2986 CertificationRequest for `name`: subject CN=name, a subjectAltName with DNS:name in an
 * extensionRequest attribute (RFC 2985 5.4.2), signed ecdsa-with-SHA256 by a new P-256 key.
 */
export function makeCsr(name: string): BenchCsr {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = sequence(set(sequence(oid(OID_COMMON_NAME), tlv(0x0c, Buffer.from(name, 'utf8')))));
  const subjectAltName = sequence(tlv(0x82, Buffer.from(name, 'ascii')));
  const extensionRequest = sequence(oid(OID_EXTENSION_REQUEST), set(sequence(sequence(oid(OID_SUBJECT_ALT_NAME), tlv(0x04, subjectAltName)))));
  const info = sequence(
    tlv(0x02, Buffer.of(0)), // version v1(0)
    subject,
    publicKey.export({ format: 'der', type: 'spki' }),
    tlv(0xa0, extensionRequest), // attributes [0] IMPLICIT SET OF Attribute
  );
  const signature = sign('sha256', info, privateKey); // DER ECDSA-Sig-Value
  const der = sequence(info, sequence(oid(OID_ECDSA_WITH_SHA256)), tlv(0x03, Buffer.of(0), signature));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return { name, pem: `-----BEGIN CERTIFICATE REQUEST-----\n${base64}\n-----END CERTIFICATE REQUEST-----\n` };
}

/** `count` CSRs for svc-<i>-<run>.mayfly.test, each with its own key. */
export function makeCsrs(count: number, run: string): BenchCsr[] {
  return Array.from({ length: count }, (_, i) => makeCsr(`svc-${i}-${run}.mayfly.test`));
}
