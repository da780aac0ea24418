import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { connect } from 'node:tls';
import { SubjectAlternativeNameExtension, X509Certificate } from '@peculiar/x509';
import ipaddr from 'ipaddr.js';
import { encodeOctetString } from '../../der';
import { AcmeProblem, type AcmeIdentifier } from '../problems';

/** RFC 8737 3: the acmeIdentifier extension, whose value is the SHA-256 of the key authorization. */
const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';

/** RFC 8738 6: the SNI of an IP identifier is its reverse-DNS name. */
function serverName(identifier: AcmeIdentifier): string {
  if (identifier.type === 'dns') return identifier.value;
  return reverseName(identifier.value);
}

function reverseName(ip: string): string {
  const address = ipaddr.parse(ip);
  if (address.kind() === 'ipv4') return `${address.toByteArray().reverse().join('.')}.in-addr.arpa`;
  const nibbles = address.toByteArray().flatMap((byte) => [byte >> 4, byte & 0xf]).map((n) => n.toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

/**
 * tls-alpn-01 (RFC 8737): a TLS handshake offering only `acme-tls/1` must present a certificate
 * whose sole subjectAltName is the identifier and whose critical acmeIdentifier extension holds
 * the SHA-256 of the key authorization.
 */
export function checkTlsAlpn01(address: string, port: number, identifier: AcmeIdentifier, keyAuthorization: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, servername: serverName(identifier), ALPNProtocols: ['acme-tls/1'], rejectUnauthorized: false, timeout: timeoutMs });
    const done = (error?: AcmeProblem) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.on('timeout', () => done(new AcmeProblem('connection', `the TLS handshake with ${address}:${port} timed out`)));
    socket.on('error', (error) => done(new AcmeProblem('tls', `the TLS handshake with ${address}:${port} failed: ${error.message}`)));
    socket.on('secureConnect', () => {
      if (socket.alpnProtocol !== 'acme-tls/1') return done(new AcmeProblem('tls', `${address}:${port} did not negotiate acme-tls/1`));
      const raw = socket.getPeerCertificate(false)?.raw;
      if (!raw) return done(new AcmeProblem('tls', `${address}:${port} presented no certificate`));
      // The certificate is the validated party's, so anything: a name form the parser refuses must be
      // this challenge's failure, never an exception thrown in a socket event (that ends the process).
      let problem: AcmeProblem | undefined;
      try {
        problem = certificateProblem(new X509Certificate(raw), identifier, keyAuthorization);
      } catch {
        problem = new AcmeProblem('incorrectResponse', 'the tls-alpn-01 certificate cannot be read (a malformed subjectAltName or extension)');
      }
      done(problem);
    });
  });
}

function certificateProblem(certificate: X509Certificate, identifier: AcmeIdentifier, keyAuthorization: string): AcmeProblem | undefined {
  const names = certificate.getExtension(SubjectAlternativeNameExtension)?.names.items ?? [];
  const wanted = identifier.type === 'dns' ? { type: 'dns', value: identifier.value.toLowerCase() } : { type: 'ip', value: ipaddr.parse(identifier.value).toString() };
  const matches = names.length === 1 && names[0].type === wanted.type && (wanted.type === 'dns' ? names[0].value.toLowerCase() : strictIp(names[0].value)) === wanted.value;
  if (!matches) return new AcmeProblem('incorrectResponse', `the tls-alpn-01 certificate must name exactly ${identifier.value}`);
  const extension = certificate.getExtension(ACME_IDENTIFIER_OID);
  if (!extension || !extension.critical) return new AcmeProblem('incorrectResponse', 'the tls-alpn-01 certificate lacks a critical acmeIdentifier extension');
  const expected = encodeOctetString(createHash('sha256').update(keyAuthorization).digest());
  if (!Buffer.from(extension.value).equals(Buffer.from(expected))) return new AcmeProblem('incorrectResponse', 'the acmeIdentifier extension does not match the key authorization');
  return undefined;
}

/** An iPAddress name as text, or undefined: only 4 or 16 octets are an address (RFC 5280 4.2.1.6), never a number ipaddr.js would read as octal. */
function strictIp(text: string): string | undefined {
  const plain = ipaddr.IPv4.isValidFourPartDecimal(text) || (text.includes(':') && !text.includes('/') && ipaddr.IPv6.isValid(text));
  return plain ? ipaddr.parse(text).toString() : undefined;
}
