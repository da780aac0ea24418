// The to-be-signed leaf checked against Mayfly's profile just before the signer sees it, in the
// spirit of Boulder's lint-before-sign: policy refuses bad requests with a reason; this catches a
// fault anywhere upstream (a validator, a fixup, this module) as a refusal to sign, never as a wrong
// certificate. It reads the structured fields issuance encodes from, so it costs microseconds.
import ipaddr from 'ipaddr.js';
import { readDer } from '../der';
import { OID } from '../x509/oids';
import type { IssuanceNames, SubjectAttribute } from '../types';

/** The leaf would break the profile: nothing was signed. A fault, not the client's: HTTP 500. */
export class CertificateLintError extends Error {
  override readonly name = 'CertificateLintError';
}

/** RFC 5280 A.1: ub-common-name. */
export const MAX_COMMON_NAME_LENGTH = 64;
/** PKCS#9 emailAddress: never in an issued subject (RFC 5280 4.1.2.6 puts e-mail in the SAN). */
export const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';

// RFC 1123 2.1 / RFC 952: a host label is letters, digits and hyphens, starting and ending with a
// letter or digit. Underscores (RFC 2181 11 allows them in DNS, not in host names) only by option.
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const LDH_UNDERSCORE_LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
// RFC 1035 2.3.4: labels of at most 63 octets, names of at most 253 characters in text form.
const MAX_LABEL = 63;
const MAX_NAME = 253;

/**
 * Why `name` may not be a dNSName of an issued certificate, or undefined: lower-case LDH labels (a
 * leading `*` label as the wildcard), no trailing dot, and no all-digit last label, which clients
 * read as an IP address ("127.1"). Shared with policy, which refuses the same names with a reason.
 */
export function dnsNameProblem(name: string, allowUnderscores: boolean): string | undefined {
  if (name.length > MAX_NAME) return `name '${name}' is longer than ${MAX_NAME} characters`;
  const labels = name.split('.');
  const label = allowUnderscores ? LDH_UNDERSCORE_LABEL : LDH_LABEL;
  for (const [index, text] of labels.entries()) {
    if (text === '*' && index === 0 && labels.length > 1) continue;
    if (text.length > MAX_LABEL) return `name '${name}' has a label longer than ${MAX_LABEL} characters`;
    if (!label.test(text)) {
      const allowed = allowUnderscores ? 'lower-case letters, digits, underscores and inner hyphens' : 'lower-case letters, digits and inner hyphens';
      return `name '${name}' has label '${text}', which is not ${allowed} (RFC 1123 2.1)`;
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return `name '${name}' ends in an all-digit label, which clients read as an IP address`;
  return undefined;
}

/** An extension as issuance encodes it: extnValue contents, not yet wrapped. */
export interface LeafExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** The fields of a leaf as issuance is about to encode them. */
export interface LeafToBeSigned {
  readonly serialNumber: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuer: { readonly notBefore: Date; readonly notAfter: Date };
  readonly subject: readonly SubjectAttribute[];
  readonly names: IssuanceNames;
  readonly publicKey: { readonly type: string; readonly spki: Uint8Array };
  readonly extensions: readonly LeafExtension[];
}

/** What the RA's profile lets into a leaf beside the defaults. */
export interface LintRules {
  /** Subject attribute types (OIDs) allowed beside the CN. */
  readonly subjectAttributes: readonly string[];
  readonly allowUnderscores: boolean;
}

/** Throws CertificateLintError naming every way `leaf` breaks RFC 5280 or the profile. */
export function lintLeaf(leaf: LeafToBeSigned, rules: LintRules): void {
  const problems = [...serialProblems(leaf.serialNumber), ...validityProblems(leaf), ...subjectProblems(leaf, rules), ...nameProblems(leaf.names, rules), ...extensionProblems(leaf)];
  if (leaf.publicKey.type === 'EC' && !uncompressedPoint(leaf.publicKey.spki)) problems.push('the EC public key is not an uncompressed point (RFC 5480 2.2)');
  if (problems.length > 0) throw new CertificateLintError(`the certificate would break the profile, so nothing was signed: ${problems.join('; ')}`);
}

// RFC 5280 4.1.2.2: a positive INTEGER of at most 20 octets.
function serialProblems(serial: Uint8Array): string[] {
  if (serial.length === 0 || serial.length > 20) return [`the serial number is ${serial.length} octets; RFC 5280 4.1.2.2 allows 1 to 20`];
  if ((serial[0] & 0x80) !== 0 || serial.every((octet) => octet === 0)) return ['the serial number is not positive (RFC 5280 4.1.2.2)'];
  return [];
}

// RFC 5280 4.1.2.5, 6.1.3 (a)(2): a leaf valid outside its issuer's validity does not validate there.
function validityProblems({ notBefore, notAfter, issuer }: LeafToBeSigned): string[] {
  const problems: string[] = [];
  if (notBefore.getTime() >= notAfter.getTime()) problems.push(`notBefore ${notBefore.toISOString()} is not before notAfter ${notAfter.toISOString()}`);
  if (notBefore.getTime() < issuer.notBefore.getTime()) problems.push(`notBefore ${notBefore.toISOString()} is before the issuing CA's notBefore ${issuer.notBefore.toISOString()}`);
  if (notAfter.getTime() > issuer.notAfter.getTime()) problems.push(`notAfter ${notAfter.toISOString()} is after the issuing CA's notAfter ${issuer.notAfter.toISOString()}`);
  return problems;
}

function subjectProblems({ subject, names }: LeafToBeSigned, rules: LintRules): string[] {
  const problems: string[] = [];
  const commonNames = subject.filter((attribute) => attribute.type === OID.commonName);
  if (commonNames.length > 1) problems.push(`the subject has ${commonNames.length} common names`);
  for (const attribute of subject) {
    if (attribute.type === EMAIL_ADDRESS || (attribute.type !== OID.commonName && !rules.subjectAttributes.includes(attribute.type))) {
      problems.push(`subject attribute ${attribute.type} is not in the profile`);
    }
  }
  for (const { value } of commonNames) {
    if (value.length > MAX_COMMON_NAME_LENGTH) problems.push(`the common name is ${value.length} characters; ub-common-name is ${MAX_COMMON_NAME_LENGTH}`);
    // RFC 6125 6.4.4 / CA/B BR 7.1.4.3: the CN, if any, repeats one of the SANs.
    if (!names.dnsNames.includes(value) && !names.ipAddresses.includes(value)) problems.push(`the common name '${value}' is not among the subjectAltNames`);
  }
  return problems;
}

function nameProblems(names: IssuanceNames, rules: LintRules): string[] {
  const problems: string[] = [];
  if (names.dnsNames.length + names.ipAddresses.length === 0) problems.push('the subjectAltName would be empty');
  for (const name of names.dnsNames) {
    const problem = dnsNameProblem(name, rules.allowUnderscores);
    if (problem) problems.push(problem);
  }
  for (const address of names.ipAddresses) if (!ipaddr.isValid(address) || ipaddr.parse(address).toString() !== address) problems.push(`'${address}' is not an IP address in canonical form`);
  if (new Set(names.dnsNames).size !== names.dnsNames.length || new Set(names.ipAddresses).size !== names.ipAddresses.length) problems.push('the subjectAltName repeats a name');
  return problems;
}

function extensionProblems({ extensions, subject }: LeafToBeSigned): string[] {
  const problems: string[] = [];
  const byOid = new Map<string, LeafExtension>();
  for (const extension of extensions) {
    if (byOid.has(extension.oid)) problems.push(`extension ${extension.oid} appears twice (RFC 5280 4.2)`);
    byOid.set(extension.oid, extension);
  }
  const basicConstraints = byOid.get(OID.basicConstraints);
  // RFC 5280 4.2.1.9: cA FALSE is the DEFAULT, so a leaf's value is the empty SEQUENCE.
  const value = basicConstraints?.value;
  if (!basicConstraints?.critical || value?.length !== 2 || value[0] !== 0x30 || value[1] !== 0x00) problems.push('basicConstraints is not a critical CA:FALSE');
  // RFC 5280 4.2.1.3: a named-bits BIT STRING (03 len unused first-octet...); keyCertSign is bit 5, cRLSign bit 6.
  const keyUsage = byOid.get(OID.keyUsage)?.value;
  if (!keyUsage || keyUsage.length < 4 || keyUsage[0] !== 0x03) problems.push('keyUsage is missing');
  else if ((keyUsage[3] & 0x06) !== 0) problems.push('keyUsage has a CA bit (keyCertSign or cRLSign)');
  if (!byOid.has(OID.subjectKeyIdentifier)) problems.push('subjectKeyIdentifier is missing (RFC 5280 4.2.1.2)');
  if (!byOid.has(OID.authorityKeyIdentifier)) problems.push('authorityKeyIdentifier is missing (RFC 5280 4.2.1.1)');
  const subjectAltName = byOid.get(OID.subjectAltName);
  if (!subjectAltName) problems.push('subjectAltName is missing');
  // RFC 5280 4.2.1.6: with an empty subject the SAN carries the identity and must be critical.
  else if (subject.length === 0 && !subjectAltName.critical) problems.push('the subject is empty but subjectAltName is not critical');
  return problems;
}

// RFC 5480 2.2: SubjectPublicKeyInfo { algorithm, subjectPublicKey BIT STRING { 0 unused, 0x04 X Y } }.
function uncompressedPoint(spki: Uint8Array): boolean {
  const key = readDer(spki).children()[1];
  return key !== undefined && key.content[1] === 0x04;
}
