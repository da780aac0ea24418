import 'reflect-metadata';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import ipaddr from 'ipaddr.js';
import { ClientUsageError } from './errors';

/** What a certificate is asked for: a common name and DNS and IP subjectAltNames. */
export interface RequestedNames {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/**
 * `DNS:name` and `IP:address` arguments → names. With no SAN given, the CN goes into the SAN too
 * (as `step ca certificate` does): TLS clients match the SAN only (RFC 6125 6.4.4), so a
 * certificate whose name is only in the CN would be refused by most of them.
 */
export function requestedNames(commonName: string, subjectAltNames: readonly string[]): RequestedNames {
  if (commonName.trim() === '') throw new ClientUsageError('the common name is empty');
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const entry of subjectAltNames) {
    const match = /^(DNS|IP):(.+)$/i.exec(entry.trim());
    if (!match) throw new ClientUsageError(`subjectAltName ${JSON.stringify(entry)} must be DNS:<name> or IP:<address>`);
    const [, kind, value] = match;
    if (kind.toUpperCase() === 'DNS') dnsNames.push(value);
    else if (isIP(value)) ipAddresses.push(value);
    else throw new ClientUsageError(`subjectAltName ${JSON.stringify(entry)}: ${JSON.stringify(value)} is not an IPv4 or IPv6 address`);
  }
  if (subjectAltNames.length === 0) (isIP(commonName) ? ipAddresses : dnsNames).push(commonName);
  return { commonName, dnsNames, ipAddresses };
}

/** The SAN extension for a CSR, or none when there are no names. */
export function subjectAltNameExtension(names: RequestedNames): x509.SubjectAlternativeNameExtension | undefined {
  const entries = [...names.dnsNames.map((value) => ({ type: 'dns' as const, value })), ...names.ipAddresses.map((value) => ({ type: 'ip' as const, value }))];
  return entries.length > 0 ? new x509.SubjectAlternativeNameExtension(entries) : undefined;
}

const dnsKey = (name: string): string => name.toLowerCase().replace(/\.$/, '');
const ipKey = (address: string): string => (ipaddr.isValid(address) ? ipaddr.process(address).toNormalizedString() : address);

/**
 * The requested names a certificate lacks (none when it has them all). The server may add names
 * (a fixup copies the CN into the SAN), so more is fine; fewer means it is not the certificate asked for.
 */
export function missingNames(certificatePem: string, names: RequestedNames): string[] {
  const certificate = new x509.X509Certificate(certificatePem);
  const present = new Set<string>();
  for (const cn of certificate.subjectName.getField('CN')) present.add(`CN:${cn}`);
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  for (const item of san?.names.items ?? []) {
    if (item.type === 'dns') present.add(`DNS:${dnsKey(item.value)}`);
    if (item.type === 'ip') present.add(`IP:${ipKey(item.value)}`);
  }
  return [
    ...(present.has(`CN:${names.commonName}`) ? [] : [`CN=${names.commonName}`]),
    ...names.dnsNames.filter((name) => !present.has(`DNS:${dnsKey(name)}`)).map((name) => `DNS:${name}`),
    ...names.ipAddresses.filter((address) => !present.has(`IP:${ipKey(address)}`)).map((address) => `IP:${address}`),
  ];
}
