import 'reflect-metadata';
import { PemConverter } from '@peculiar/x509';

/** A DER certificate as PEM, newline-terminated. */
export function certificatePem(der: Uint8Array): string {
  return `${PemConverter.encode(der, PemConverter.CertificateTag)}\n`;
}
