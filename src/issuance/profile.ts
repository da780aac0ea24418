import type { KeyUsageName } from '../x509/oids';

/** What an RA puts into every certificate it issues, from its YAML. */
export interface CertificateProfile {
  /** How long a certificate lives, in milliseconds. */
  readonly validityMs: number;
  /** How far notBefore lies before the moment of issue, for clients whose clocks run behind. */
  readonly backdateMs: number;
  /** keyUsage bits; when absent, digitalSignature, plus keyEncipherment for RSA keys. */
  readonly keyUsage?: readonly KeyUsageName[];
  /** extKeyUsage purposes as OIDs. */
  readonly extKeyUsage: readonly string[];
  /** Subject attribute types (OIDs) issued beside the CN; every other attribute a CSR sends is left out. */
  readonly subjectAttributes: readonly string[];
  /** Whether dNSName labels may hold underscores (RFC 1123 host names do not). */
  readonly allowUnderscores: boolean;
}
