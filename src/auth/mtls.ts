import { X509Certificate } from 'node:crypto';
import { importPublicKey } from '../csr/public_key';
import { contextTag, readDer } from '../der';
import type { Requester } from '../types';
import type { Authenticator, Credentials } from './authenticator';

export interface MtlsOptions {
  /** CA certificates a client certificate must chain to (Mayfly's own issuing chains by default). */
  readonly trusted: readonly X509Certificate[];
  /** How long after expiry a certificate may still renew itself; 0 (the default) for none. */
  readonly graceMs: number;
  /** Groups of a requester, by the user name its certificate gives (its CN, else its first SAN). */
  readonly groups: Readonly<Record<string, readonly string[]>>;
}

const MAX_PATH = 4;

/**
 * The `mtls` backend: the client presents a certificate that chains to a trusted CA. This is how a
 * service renews: a still-valid certificate obtains a new one (with a new key) for the same names,
 * without other credentials, like `step ca renew`. The names it may ask for are bound to the
 * presented certificate's (the always-on `renewal_scope` validator enforces that).
 */
export class MtlsAuthenticator implements Authenticator {
  constructor(
    readonly name: string,
    private readonly options: MtlsOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A hash and a comparison (a token), or a chain already checked in the TLS handshake: never costly. */
  costly(): boolean {
    return false;
  }

  async authenticate(credentials: Credentials): Promise<Requester | undefined> {
    const [leafDer, ...presented] = credentials.clientCertificates ?? [];
    if (!leafDer) return undefined;
    let leaf: X509Certificate;
    let intermediates: X509Certificate[];
    try {
      leaf = new X509Certificate(leafDer);
      intermediates = presented.map((der) => new X509Certificate(der));
    } catch {
      return undefined;
    }
    const now = this.now().getTime();
    if (Date.parse(leaf.validFrom) > now || Date.parse(leaf.validTo) + this.options.graceMs <= now || leaf.ca) return undefined;
    if (!soundKey(leaf)) return undefined;
    if (!this.chainsToTrusted(leaf, intermediates, now)) return undefined;
    const names = boundNames(leaf);
    const user = commonName(leaf) ?? names[0] ?? leaf.serialNumber;
    return { user, groups: [...(Object.hasOwn(this.options.groups, user) ? this.options.groups[user] : [])], authentication: this.name, boundNames: names };
  }

  /** Walks issuer links (trusted CAs first, then what the client sent), checking signatures and validity. */
  private chainsToTrusted(leaf: X509Certificate, intermediates: readonly X509Certificate[], now: number): boolean {
    let current = leaf;
    for (let depth = 0; depth < MAX_PATH; depth++) {
      if (this.options.trusted.some((ca) => issued(ca, current, now))) return true;
      const next = intermediates.find((candidate) => candidate.ca && issued(candidate, current, now));
      if (!next) return false;
      current = next;
    }
    return false;
  }
}

function issued(issuer: X509Certificate, subject: X509Certificate, now: number): boolean {
  return Date.parse(issuer.validFrom) <= now && now < Date.parse(issuer.validTo) && subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

/**
 * The TLS handshake proved the client holds the leaf's key only if no one else can sign for it: under
 * RSA e = 1 or an Ed25519 point of small order, anyone can. The csr stage's key checks decide, on
 * the SubjectPublicKeyInfo read from the certificate (RFC 5280 4.1), not on OpenSSL's view of it.
 */
function soundKey(certificate: X509Certificate): boolean {
  try {
    const fields = readDer(certificate.raw).children()[0].children();
    importPublicKey(fields[fields[0].tag === contextTag(0, true) ? 6 : 5].validate());
    return true;
  } catch {
    return false;
  }
}

function commonName(certificate: X509Certificate): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(certificate.subject)?.[1];
}

/** The certificate's CN and its DNS and IP subjectAltNames: what a renewal may ask for again. */
function boundNames(certificate: X509Certificate): string[] {
  const names = new Set<string>();
  const cn = commonName(certificate);
  if (cn) names.add(cn);
  for (const entry of (certificate.subjectAltName ?? '').split(', ')) {
    const [kind, value] = [entry.slice(0, entry.indexOf(':')), entry.slice(entry.indexOf(':') + 1)];
    if (kind === 'DNS' || kind === 'IP Address') names.add(value);
  }
  return [...names];
}
