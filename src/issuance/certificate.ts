import ipaddr from 'ipaddr.js';
import {
  contextTag,
  encode,
  encodeBitString,
  encodeNamedBits,
  encodeOctetString,
  encodeOid,
  encodeTime,
  encodeUnsignedInteger,
  sequence,
} from '../der';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS, OID } from '../x509/oids';
import { SignerUnavailableError, type Signer } from '../signers/signer';
import type { SigningCa } from '../signers/signing_ca';
import { extension } from '../x509/extension';
import { keyIdentifier } from '../x509/key_identifier';
import type { IssuanceNames, IssuedCertificate, SubjectAttribute, SubjectPublicKey } from '../types';
import { lintLeaf, type LeafExtension } from './lint';
import { encodeSubject } from '../x509/name';
import type { CertificateProfile } from './profile';
import { newSerialNumber } from './serial';

/** What a certificate is issued for, once policy has allowed it. */
export interface IssuanceRequest {
  /** The checked subject attributes; issuance encodes them afresh. */
  readonly subject: readonly SubjectAttribute[];
  readonly publicKey: SubjectPublicKey;
  readonly names: IssuanceNames;
}

const VERSION_3 = encode(contextTag(0, true), encodeUnsignedInteger(Uint8Array.of(2)));

/**
 * Builds the RFC 5280 certificate for `request` under `profile`, lints it against the profile, and
 * has the CA's signer sign it. A leaf the lint refuses throws CertificateLintError: nothing is signed.
 */
export async function issueCertificate(
  request: IssuanceRequest,
  profile: CertificateProfile,
  ca: SigningCa,
  now: Date = new Date(),
): Promise<IssuedCertificate> {
  if (ca.notAfter.getTime() <= now.getTime()) {
    throw new SignerUnavailableError(`the issuing CA certificate expired at ${ca.notAfter.toISOString()}; nothing was signed`);
  }
  // A CA made on a host whose clock runs ahead, or installed before its time: its leaves could not be
  // verified yet, so wait for it (503 and Retry-After) rather than sign a leaf dated in the future.
  if (ca.notBefore.getTime() > now.getTime()) {
    throw new SignerUnavailableError(`the issuing CA certificate is not valid until ${ca.notBefore.toISOString()}; nothing was signed`);
  }
  const window = validityWindow(profile, ca, now);
  const serialNumber = newSerialNumber(now.getTime());
  const leafExtensions = extensions(request, profile, ca);
  lintLeaf({ serialNumber, ...window, issuer: ca, subject: request.subject, names: request.names, publicKey: request.publicKey, extensions: leafExtensions }, profile);
  return signCertificate(
    {
      issuer: ca.subject,
      subject: encodeSubject(request.subject),
      spki: request.publicKey.spki,
      ...window,
      extensions: leafExtensions.map(({ oid, critical, value }) => extension(oid, critical, value)),
    },
    ca.signer,
    serialNumber,
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

/** RFC 5280 4.1: encodes the TBSCertificate (with a fresh serial unless given) and has `signer` sign it. */
export async function signCertificate(fields: CertificateFields, signer: Signer, serial: Uint8Array = newSerialNumber()): Promise<IssuedCertificate> {
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
export function validityWindow(profile: CertificateProfile, ca: Pick<SigningCa, 'notBefore' | 'notAfter'>, now: Date): { notBefore: Date; notAfter: Date } {
  const issuedAt = Math.floor(now.getTime() / 1000) * 1000;
  return {
    // Never start before the issuer either: the backdate must not reach past a CA made minutes ago.
    notBefore: new Date(Math.max(issuedAt - profile.backdateMs, ca.notBefore.getTime())),
    // Never outlive the issuer: a client would see a chain that expires before its leaf.
    notAfter: new Date(Math.min(issuedAt + profile.validityMs, ca.notAfter.getTime())),
  };
}


function extensions(request: IssuanceRequest, profile: CertificateProfile, ca: SigningCa): LeafExtension[] {
  const keyUsage = profile.keyUsage ?? (request.publicKey.type === 'RSA' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  // RFC 5280 4.2.1.3: at least one bit, and the CA bits only with cA TRUE (never, for a leaf).
  if (keyUsage.length === 0 || keyUsage.some((usage) => usage === 'keyCertSign' || usage === 'cRLSign')) {
    throw new Error(`a leaf certificate profile needs at least one key usage and no CA key usage (got [${keyUsage.join(', ')}])`);
  }
  const list: LeafExtension[] = [
    // RFC 5280 4.2.1.9: CA:FALSE is the DEFAULT, so an empty SEQUENCE; critical so no one reads it as a CA.
    { oid: OID.basicConstraints, critical: true, value: sequence() },
    { oid: OID.keyUsage, critical: true, value: encodeNamedBits(keyUsage.map((name) => KEY_USAGE_BITS.indexOf(name as (typeof KEY_USAGE_BITS)[number]))) },
  ];
  if (profile.extKeyUsage.length > 0) {
    list.push({ oid: OID.extKeyUsage, critical: false, value: sequence(...profile.extKeyUsage.map((purpose) => encodeOid(EXT_KEY_USAGE_OIDS[purpose] ?? purpose))) });
  }
  list.push(
    { oid: OID.subjectKeyIdentifier, critical: false, value: encodeOctetString(keyIdentifier(request.publicKey.spki)) },
    { oid: OID.authorityKeyIdentifier, critical: false, value: sequence(encode(contextTag(0, false), ca.subjectKeyIdentifier)) },
  );
  const generalNames = [
    ...request.names.dnsNames.map((name) => encode(contextTag(2, false), Buffer.from(name, 'latin1'))),
    ...request.names.ipAddresses.map((address) => encode(contextTag(7, false), Uint8Array.from(ipaddr.parse(address).toByteArray()))),
  ];
  // RFC 5280 4.2.1.6: with an empty subject the SAN carries the identity and must be critical.
  if (generalNames.length > 0) list.push({ oid: OID.subjectAltName, critical: request.subject.length === 0, value: sequence(...generalNames) });
  return list;
}
