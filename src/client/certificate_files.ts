import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic_file';
import { certificateMatchesKey } from './key_pair';
import type { IssuedCredentials } from './request_certificate';

/** Where a certificate and its key live on disk. */
export interface CertificatePaths {
  readonly cert: string;
  readonly key: string;
  /** The intermediates, issuing certificate first. */
  readonly chain?: string;
  /** The certificate followed by the intermediates (nginx's ssl_certificate, Node's `cert`). */
  readonly fullchain?: string;
}

/** What `writeCertificateFiles` writes to: a key brought by the user is left where it is. */
export type WrittenPaths = Omit<CertificatePaths, 'key'> & { readonly key?: string };

export const DEFAULT_KEY_MODE = 0o600;
const PUBLIC_MODE = 0o644;

/**
 * Writes the new key (if one was made) and the certificate, each file atomically. The key goes first and the certificate
 * last: a service that watches the certificate file finds the matching key already in place. No
 * order makes two renames one, so a service should reload on the hook (which runs after all files
 * are written); and a crash between them leaves a key that matches no certificate, which the agent
 * notices at start and replaces with a fresh pair.
 */
export async function writeCertificateFiles(paths: WrittenPaths, issued: IssuedCredentials, keyMode: number = DEFAULT_KEY_MODE): Promise<void> {
  if (issued.privateKeyPem !== undefined) {
    if (!paths.key) throw new Error('a new key needs a file to go to');
    await writeFileAtomic(paths.key, issued.privateKeyPem, keyMode);
  }
  if (paths.chain) await writeFileAtomic(paths.chain, issued.chainPem, PUBLIC_MODE);
  if (paths.fullchain) await writeFileAtomic(paths.fullchain, issued.certificatePem + issued.chainPem, PUBLIC_MODE);
  await writeFileAtomic(paths.cert, issued.certificatePem, PUBLIC_MODE);
}

/** A certificate already on disk, with its key. */
export interface CurrentCertificate {
  readonly certificate: X509Certificate;
  readonly certificatePem: string;
  readonly chainPem: string;
  readonly privateKeyPem: string;
  readonly notAfter: Date;
  /**
   * When it was received, as far as can be told: the certificate file's modification time (the
   * agent writes it on arrival), kept between notBefore and now.
   */
  readonly receivedAt: Date;
}

export type CurrentCertificateState =
  | { readonly status: 'present'; readonly current: CurrentCertificate }
  | { readonly status: 'missing' }
  | { readonly status: 'unusable'; readonly reason: string };

/** Reads the certificate and key at `paths`: present (they parse and match), missing, or unusable and why. */
export async function readCurrentCertificate(paths: CertificatePaths, now: number = Date.now()): Promise<CurrentCertificateState> {
  const [certificatePem, privateKeyPem] = await Promise.all([readFile(paths.cert, 'utf8').catch(() => undefined), readFile(paths.key, 'utf8').catch(() => undefined)]);
  if (certificatePem === undefined && privateKeyPem === undefined) return { status: 'missing' };
  if (certificatePem === undefined) return { status: 'unusable', reason: `${paths.cert} cannot be read` };
  if (privateKeyPem === undefined) return { status: 'unusable', reason: `${paths.key} cannot be read` };
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    return { status: 'unusable', reason: `${paths.cert} is not a PEM certificate` };
  }
  if (!certificateMatchesKey(certificate, privateKeyPem)) return { status: 'unusable', reason: `${paths.key} is not the key of ${paths.cert}` };
  const chainPem = paths.chain ? await readFile(paths.chain, 'utf8').catch(() => '') : '';
  const modified = (await stat(paths.cert)).mtimeMs;
  const receivedAt = Math.min(now, Math.max(Date.parse(certificate.validFrom), modified));
  return {
    status: 'present',
    current: { certificate, certificatePem, chainPem, privateKeyPem, notAfter: new Date(certificate.validTo), receivedAt: new Date(receivedAt) },
  };
}
