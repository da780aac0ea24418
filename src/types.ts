// Types that several stages of the request flow share: what the csr stage produces,
// what policy decides, what issuance returns. Each stage owns its other types.
import type { KeyObject } from 'node:crypto';

/** The requester's public key, imported once by the csr stage and reused by every later stage. */
export interface SubjectPublicKey {
  /** 'RSA', 'RSA-PSS', 'EC', 'Ed25519' or 'Ed448': the csr stage refuses every other type. */
  readonly type: string;
  /** RSA modulus length in bits; EC field size in bits. */
  readonly bits?: number;
  /** EC named curve: 'P-256', 'P-384', 'P-521' or 'secp256k1'. */
  readonly curve?: string;
  /** RSA public exponent. */
  readonly exponent?: bigint;
  /**
   * The SubjectPublicKeyInfo, DER, in its one canonical form (an EC point uncompressed, RFC 5480 2.2):
   * what the certificate carries, the audit ledger fingerprints and the deny list matches.
   */
  readonly spki: Uint8Array;
  /** EC: the point, uncompressed (RFC 5480 2.2), which the native core verifies the CSR with. */
  readonly point?: Uint8Array;
  readonly keyObject: KeyObject;
}

/** An extension as the CSR requested it (PKCS#9 extensionRequest). */
export interface RequestedExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING contents. */
  readonly value: Uint8Array;
}

/** A subjectAltName entry of a kind Mayfly does not issue (e-mail, URI, directory name...). */
export interface UnsupportedName {
  readonly kind: string;
  readonly value: string;
}

/** One AttributeTypeAndValue of a subject Name (RFC 5280 4.1.2.4). */
export interface SubjectAttribute {
  /** The attribute type OID. */
  readonly type: string;
  readonly value: string;
  /** The string type it was sent as (a TAG.* value), when it came from a CSR. */
  readonly tag?: number;
}

/** A PKCS#10 request parsed once: every later stage reads these fields, never the DER again. */
export interface CertificationRequest {
  readonly der: Uint8Array;
  /** The subject Name as sent, DER. Never copied into a certificate: issuance re-encodes the checked attributes. */
  readonly subject: Uint8Array;
  /** Subject attributes in order, as OID, string value and the string type they were sent as. */
  readonly subjectAttributes: readonly SubjectAttribute[];
  readonly commonNames: readonly string[];
  readonly dnsNames: readonly string[];
  /** IP addresses from the SAN, in ipaddr.js canonical text form. */
  readonly ipAddresses: readonly string[];
  readonly unsupportedNames: readonly UnsupportedName[];
  readonly extensions: readonly RequestedExtension[];
  /** basicConstraints, when requested. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number };
  /** keyUsage bit names (RFC 5280 4.2.1.3), when requested. */
  readonly keyUsage?: readonly string[];
  /** extKeyUsage OIDs, when requested. */
  readonly extKeyUsage?: readonly string[];
  readonly publicKey: SubjectPublicKey;
  /** The algorithm and the digest it signs with (`sha1`, `sha256`…; null for EdDSA; undefined if unknown). */
  readonly signatureAlgorithm: { readonly oid: string; readonly name: string; readonly digest: string | null | undefined };
  /** Whether the CSR's self-signature verifies under its own key: proof of possession. */
  readonly signatureValid: boolean;
}

/** Who is asking, as authentication established it. */
export interface Requester {
  readonly user: string;
  readonly groups: readonly string[];
  /** The authentication entry (config name) that accepted the request. */
  readonly authentication: string;
  /** When set (a certificate renewing itself), the only names this requester may ask for. */
  readonly boundNames?: readonly string[];
}

/** One validator's answer: no reasons means it passed. */
export interface Verdict {
  readonly validator: string;
  readonly reasons: readonly string[];
}

/** The names a certificate will carry, after fixups. */
export interface IssuanceNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** What issuance hands back: the certificate and the facts an audit record needs. */
export interface IssuedCertificate {
  readonly der: Uint8Array;
  /** Serial number, lowercase hex without separators. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** How long the signer took over the signature, for the signing latency metric. */
  readonly signatureSeconds: number;
}
