import { createHash, X509Certificate } from 'node:crypto';
import { ClientUsageError, TrustError } from './errors';
import { pemCertificateBlocks } from '../pem';

// Which root a client trusts. A new host needs only the root's SHA-256 fingerprint (what `mayfly
// init` prints): it reads the server's public chain once, keeps the root with that fingerprint, and
// from then on verifies every connection and every issued certificate against it alone.

const MAX_PATH = 4;

/** `SHA256:ab12…`, `ab:12:…`, `AB12…` → 64 lowercase hex digits. */
export function parseRootFingerprint(text: string): string {
  const hex = text.trim().replace(/^sha-?256:/i, '').replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ClientUsageError(`root fingerprint ${JSON.stringify(text)} is not a SHA-256 fingerprint (64 hex digits, optionally SHA256: and colons)`);
  return hex;
}

export const sha256Fingerprint = (certificate: X509Certificate): string => createHash('sha256').update(certificate.raw).digest('hex');

/** Every certificate in a PEM text, in order. */
export function parseCertificates(pem: string, origin: string): X509Certificate[] {
  const blocks = pemCertificateBlocks(pem);
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    throw new TrustError(`${origin} holds a certificate that cannot be parsed`);
  }
}

const selfSigned = (certificate: X509Certificate): boolean => certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey);

function issuedBy(subject: X509Certificate, issuer: X509Certificate, now: number): boolean {
  return issuer.ca && Date.parse(issuer.validFrom) <= now && now < Date.parse(issuer.validTo) && subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

/** The roots a client trusts. */
export class TrustAnchors {
  constructor(readonly roots: readonly X509Certificate[]) {
    if (roots.length === 0) throw new ClientUsageError('no trusted root certificate');
  }

  /** Roots from a PEM file's text (`--cacert`). */
  static fromPem(pem: string, origin: string): TrustAnchors {
    const roots = parseCertificates(pem, origin);
    if (roots.length === 0) throw new ClientUsageError(`${origin} holds no PEM certificate`);
    return new TrustAnchors(roots);
  }

  /**
   * The root of `chainPem` (read over an unverified connection) whose SHA-256 fingerprint is
   * `fingerprint`. The chain is only a carrier here: nothing in it is believed except the one
   * certificate whose hash matches, and it must be a self-signed CA (a TLS `ca` must be a root).
   */
  static pinByFingerprint(chainPem: string, fingerprint: string, origin: string): TrustAnchors {
    const certificates = parseCertificates(chainPem, origin);
    const root = certificates.find((certificate) => sha256Fingerprint(certificate) === fingerprint);
    if (!root) {
      const seen = certificates.map((c) => `${c.subject.replace(/\n/g, ', ')} (SHA256:${sha256Fingerprint(c)})`).join('; ') || 'none';
      throw new TrustError(`the chain from ${origin} has no certificate with fingerprint SHA256:${fingerprint}; it has: ${seen}`);
    }
    if (!root.ca || !selfSigned(root)) throw new TrustError(`the certificate with fingerprint SHA256:${fingerprint} from ${origin} is not a self-signed root CA`);
    return new TrustAnchors([root]);
  }

  /** The roots as PEM, for a TLS `ca` option. */
  get pem(): string {
    return this.roots.map((root) => root.toString()).join('');
  }

  /**
   * Checks an issued certificate: a leaf (not a CA), unexpired, signed by a chain (from `untrusted`)
   * that ends at one of these roots. Returns the path's intermediates, issuing certificate first.
   */
  verifyIssued(leaf: X509Certificate, untrusted: readonly X509Certificate[], now: number = Date.now()): X509Certificate[] {
    if (leaf.ca) throw new TrustError('the server returned a CA certificate, not a leaf');
    if (Date.parse(leaf.validTo) <= now) throw new TrustError(`the returned certificate expired at ${new Date(leaf.validTo).toISOString()}`);
    const intermediates: X509Certificate[] = [];
    let current = leaf;
    for (let depth = 0; depth < MAX_PATH; depth++) {
      if (this.roots.some((root) => issuedBy(current, root, now))) return intermediates;
      const next = untrusted.find((candidate) => !this.roots.some((root) => root.raw.equals(candidate.raw)) && !intermediates.includes(candidate) && issuedBy(current, candidate, now));
      if (!next) break;
      intermediates.push(next);
      current = next;
    }
    throw new TrustError(`the returned certificate does not chain to the trusted root (${this.roots.map((root) => `SHA256:${sha256Fingerprint(root)}`).join(', ')})`);
  }
}
