import 'reflect-metadata';
import { PemConverter } from '@peculiar/x509';

/** A DER certificate as PEM, newline-terminated. */
export function certificatePem(der: Uint8Array): string {
  return `${PemConverter.encode(der, PemConverter.CertificateTag)}\n`;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Each PEM certificate block in `text`, in order (anything between them is ignored). */
export function pemCertificateBlocks(text: string): string[] {
  return text.match(PEM_CERTIFICATE) ?? [];
}
