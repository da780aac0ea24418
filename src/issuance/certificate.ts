import ipaddr from 'ipaddr.js';
import {
  contextTag,
  encode,
  encodeBitString,
  encodeBoolean,
  encodeNamedBits,
  encodeOctetString,
  encodeOid,
  encodeTime,
  encodeUnsignedInteger,
  sequence,
} from '../der';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS, OID } from '../csr/oids';
import { SignerUnavailableError, type Signer } from '../signers/signer';
import { keyIdentifier, type SigningCa } from '../signers/signing_ca';
import type { IssuanceNames, IssuedCertificate, SubjectPublicKey } from '../types';
import type { CertificateProfile } from './profile';
import { randomSerialNumber } from './serial';

/** What a certificate is issued for, once policy has allowed it. */
export interface IssuanceRequest {
  readonly subject: Uint8Array;
  readonly publicKey: SubjectPublicKey;
  readonly names: IssuanceNames;
}

const VERSION_3 = encode(contextTag(0, true), encodeUnsignedInteger(Uint8Array.of(2)));
const EMPTY_NAME = sequence();

/** Builds the RFC 5280 certificate for `request` under `profile` and has the CA's signer sign it. */
export async function issueCertificate(
  request: IssuanceRequest,
  profile: CertificateProfile,
  ca: SigningCa,
  now: Date = new Date(),
): Promise<IssuedCertificate> {
  // RFC 5280 4.1.2.6; subject_identity refuses this in policy, so reaching here is a fault.
  if (Buffer.compare(request.subject, EMPTY_NAME) === 0 && request.names.dnsNames.length + request.names.ipAddresses.length === 0) {
    throw new Error('refusing to issue a certificate with an empty subject and no subjectAltName');
  }
  const window = validityWindow(profile, ca, now);
  if (ca.notAfter.getTime() <= now.getTime()) {
    throw new SignerUnavailableError(`the issuing CA certificate expired at ${ca.notAfter.toISOString()}; nothing was signed`);
  }
  return signCertificate(
    { issuer: ca.subject, subject: request.subject, spki: request.publicKey.spki, ...window, extensions: extensions(request, profile, ca) },
    ca.signer,
  );
}

/** The fields of a v3 certificate, DER-encoded where they are structures. */
export interface CertificateFields {
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly spki: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly Uint8Array[];
}

/** RFC 5280 4.1: encodes the TBSCertificate with a fresh serial and has `signer` sign it. */
export async function signCertificate(fields: CertificateFields, signer: Signer): Promise<IssuedCertificate> {
  const serial = randomSerialNumber();
  const tbs = sequence(
    VERSION_3,
    encodeUnsignedInteger(serial),
    signer.signatureAlgorithm,
    fields.issuer,
    sequence(encodeTime(fields.notBefore), encodeTime(fields.notAfter)),
    fields.subject,
    fields.spki,
    encode(contextTag(3, true), sequence(...fields.extensions)),
  );
  const signing = performance.now();
  const signature = await signer.sign(tbs);
  return {
    signatureSeconds: (performance.now() - signing) / 1000,
    der: sequence(tbs, signer.signatureAlgorithm, encodeBitString(signature)),
    serialNumber: Buffer.from(serial).toString('hex'),
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
  };
}

/** RFC 5280 4.1.2.5: the validity a certificate issued at `now` gets, in whole seconds. */
export function validityWindow(profile: CertificateProfile, ca: Pick<SigningCa, 'notAfter'>, now: Date): { notBefore: Date; notAfter: Date } {
  const issuedAt = Math.floor(now.getTime() / 1000) * 1000;
  return {
    notBefore: new Date(issuedAt - profile.backdateMs),
    // Never outlive the issuer: a client would see a chain that expires before its leaf.
    notAfter: new Date(Math.min(issuedAt + profile.validityMs, ca.notAfter.getTime())),
  };
}

/** RFC 5280 4.1: Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue } */
export function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(encodeOid(oid), encodeBoolean(true), encodeOctetString(value)) : sequence(encodeOid(oid), encodeOctetString(value));
}

function extensions(request: IssuanceRequest, profile: CertificateProfile, ca: SigningCa): Uint8Array[] {
  const keyUsage = profile.keyUsage ?? (request.publicKey.type === 'RSA' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  // RFC 5280 4.2.1.3: at least one bit, and the CA bits only with cA TRUE (never, for a leaf).
  if (keyUsage.length === 0 || keyUsage.some((usage) => usage === 'keyCertSign' || usage === 'cRLSign')) {
    throw new Error(`a leaf certificate profile needs at least one key usage and no CA key usage (got [${keyUsage.join(', ')}])`);
  }
  const list = [
    // RFC 5280 4.2.1.9: CA:FALSE is the DEFAULT, so an empty SEQUENCE; critical so no one reads it as a CA.
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, encodeNamedBits(keyUsage.map((name) => KEY_USAGE_BITS.indexOf(name as (typeof KEY_USAGE_BITS)[number])))),
  ];
  if (profile.extKeyUsage.length > 0) {
    list.push(extension(OID.extKeyUsage, false, sequence(...profile.extKeyUsage.map((purpose) => encodeOid(EXT_KEY_USAGE_OIDS[purpose] ?? purpose)))));
  }
  list.push(
    extension(OID.subjectKeyIdentifier, false, encodeOctetString(keyIdentifier(request.publicKey.spki))),
    extension(OID.authorityKeyIdentifier, false, sequence(encode(contextTag(0, false), ca.subjectKeyIdentifier))),
  );
  const generalNames = [
    ...request.names.dnsNames.map((name) => encode(contextTag(2, false), Buffer.from(name, 'latin1'))),
    ...request.names.ipAddresses.map((address) => encode(contextTag(7, false), Uint8Array.from(ipaddr.parse(address).toByteArray()))),
  ];
  if (generalNames.length > 0) {
    // RFC 5280 4.2.1.6: with an empty subject the SAN carries the identity and must be critical.
    const emptySubject = Buffer.compare(request.subject, EMPTY_NAME) === 0;
    list.push(extension(OID.subjectAltName, emptySubject, sequence(...generalNames)));
  }
  return list;
}
