import { isValidOid } from '../der';
// Object identifiers the csr stage reads, with the names reasons and audit records use.

export const OID = {
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** RFC 5280 4.2.1.3: keyUsage bit positions, in order. */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

/** RFC 5280 4.2.1.12 key purposes, by name. */
export const EXT_KEY_USAGE_OIDS: Readonly<Record<string, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
};

/** RFC 5280 4.2.1.6 GeneralName choice tags. */
export const GENERAL_NAME_KINDS: Readonly<Record<number, string>> = {
  0: 'otherName',
  1: 'rfc822Name',
  2: 'dNSName',
  3: 'x400Address',
  4: 'directoryName',
  5: 'ediPartyName',
  6: 'uniformResourceIdentifier',
  7: 'iPAddress',
  8: 'registeredID',
};

/** Extension names the `extensions` validator accepts, RFC 5280 4.2 and common others. */
export const EXTENSION_OIDS: Readonly<Record<string, string>> = {
  subjectAltName: OID.subjectAltName,
  basicConstraints: OID.basicConstraints,
  keyUsage: OID.keyUsage,
  extKeyUsage: OID.extKeyUsage,
  extendedKeyUsage: OID.extKeyUsage,
  subjectKeyIdentifier: OID.subjectKeyIdentifier,
  authorityKeyIdentifier: OID.authorityKeyIdentifier,
  subjectDirectoryAttributes: '2.5.29.9',
  privateKeyUsagePeriod: '2.5.29.16',
  issuerAltName: '2.5.29.18',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  certificateIssuer: '2.5.29.29',
  nameConstraints: '2.5.29.30',
  cRLDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  tlsFeature: '1.3.6.1.5.5.7.1.24',
  nsComment: '2.16.840.1.113730.1.13',
};

/** Lower case without spaces, hyphens or underscores: how names written by hand are compared. */
const fold = (name: string): string => name.toLowerCase().replace(/[\s_-]/g, '');

// OpenSSL's (and so Anchor's) long names, beside RFC 5280's.
const KEY_USAGE_ALIASES: Readonly<Record<string, KeyUsageName>> = {
  contentcommitment: 'nonRepudiation',
  certificatesign: 'keyCertSign',
  certsign: 'keyCertSign',
  crlsign: 'cRLSign',
};
const EXT_KEY_USAGE_ALIASES: Readonly<Record<string, string>> = {
  tlswebserverauthentication: 'serverAuth',
  tlswebclientauthentication: 'clientAuth',
  emailprotection: 'emailProtection',
  timestamping: 'timeStamping',
  ocspsigning: 'OCSPSigning',
};

/** A keyUsage bit name from RFC 5280 or OpenSSL spelling ("Digital Signature"), or undefined. */
export function keyUsageName(name: string): KeyUsageName | undefined {
  const folded = fold(name);
  return KEY_USAGE_BITS.find((bit) => bit.toLowerCase() === folded) ?? KEY_USAGE_ALIASES[folded];
}

/** A key purpose OID from a name (serverAuth, "TLS Web Server Authentication") or a dotted OID. */
export function extKeyUsageOid(name: string): string | undefined {
  if (/^\d+(\.\d+)+$/.test(name)) return isValidOid(name) ? name : undefined;
  const folded = fold(name);
  const short = Object.keys(EXT_KEY_USAGE_OIDS).find((key) => key.toLowerCase() === folded) ?? EXT_KEY_USAGE_ALIASES[folded];
  return short && EXT_KEY_USAGE_OIDS[short];
}

/** The name of a key purpose OID, or the OID itself when it has none. */
export function extKeyUsageLabel(oid: string): string {
  return Object.entries(EXT_KEY_USAGE_OIDS).find(([, value]) => value === oid)?.[0] ?? oid;
}

/** An extension OID from a name or a dotted OID. */
export function extensionOid(name: string): string | undefined {
  if (/^\d+(\.\d+)+$/.test(name)) return isValidOid(name) ? name : undefined;
  const folded = fold(name);
  return Object.entries(EXTENSION_OIDS).find(([key]) => key.toLowerCase() === folded)?.[1];
}

/** The name of an extension OID, or the OID itself. */
export function extensionLabel(oid: string): string {
  return Object.entries(EXTENSION_OIDS).find(([, value]) => value === oid)?.[0] ?? oid;
}
