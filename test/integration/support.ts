// Shared pieces of the integration tests: request builders, a raw (chunked) HTTP client, and an
// independent look at issued certificates (Node's X509Certificate, @peculiar/x509, openssl and a
// minimal DER walker written here) — never Mayfly's own DER code.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import type { TestCa } from '../helpers/mayfly';
import { openssl, opensslText, type OpensslCsr } from '../helpers/openssl';

export const DEV_USER = 'deployer';

export const signUrl = (ca: TestCa, ra = 'default'): string => `${ca.url}/v1/sign/${ra}`;

/** RFC 7617 Basic credentials. */
export const basicAuth = (user: string, secret: string): string => `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;

/** Anchor's four form fields with the development user. */
export const anchorFields = (secret: string, csr: string): Record<string, string> => ({ user: DEV_USER, secret, encoding: 'pem', csr });

export interface FilePart {
  readonly name: string;
  readonly content: Uint8Array | string;
  readonly filename?: string;
  readonly type?: string;
}

/** A FormData with text fields (repeatable, in order) and file parts. */
export function formData(fields: readonly (readonly [string, string])[], files: readonly FilePart[] = []): FormData {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  for (const file of files) {
    const bytes = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    form.append(file.name, new Blob([new Uint8Array(bytes)], { type: file.type ?? 'application/octet-stream' }), file.filename ?? 'csr.bin');
  }
  return form;
}

/** A multipart/form-data body built by hand, for bodies fetch cannot make (chunked, malformed). */
export function multipartBody(boundary: string, parts: readonly { name: string; value: string | Uint8Array; filename?: string }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    const type = part.filename ? 'Content-Type: application/octet-stream\r\n' : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`, 'utf8'));
    chunks.push(typeof part.value === 'string' ? Buffer.from(part.value, 'utf8') : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n', 'utf8'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'utf8'));
  return Buffer.concat(chunks);
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A POST through node:http. Without `contentLength` the body goes out with
 * Transfer-Encoding: chunked, in chunks of `chunkSize` bytes, and no Content-Length header.
 * A server that answers early and drops the connection is fine: the answer is what counts.
 */
export function rawPost(url: string, headers: Record<string, string>, body: Buffer, options: { chunkSize?: number; contentLength?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { ...headers, ...(options.contentLength ? { 'Content-Length': String(body.length) } : { 'Transfer-Encoding': 'chunked' }) } });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (options.contentLength) {
      request.end(body);
    } else {
      const size = options.chunkSize ?? 8192;
      for (let offset = 0; offset < body.length; offset += size) request.write(body.subarray(offset, offset + size));
      request.end();
    }
  });
}

// ---- looking at DER independently ----

/** One TLV of a DER buffer, with the whole encoding and the contents as views. */
export interface Tlv {
  readonly tag: number;
  readonly encoded: Buffer;
  readonly content: Buffer;
}

/** Reads the TLV at `offset` (definite lengths only; enough for certificates and CSRs). */
export function readTlv(bytes: Buffer, offset = 0): Tlv {
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[offset + 2 + i];
    header += octets;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new Error(`TLV at ${offset} runs past the end`);
  return { tag, encoded: bytes.subarray(offset, end), content: bytes.subarray(offset + header, end) };
}

/** The children of a constructed TLV. */
export function children(node: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < node.content.length; ) {
    const child = readTlv(node.content, offset);
    out.push(child);
    offset += child.encoded.length;
  }
  return out;
}

/** The raw pieces of a certificate's TBS, RFC 5280 4.1. */
export interface CertificateParts {
  readonly version: Tlv;
  readonly serial: Tlv;
  readonly tbsSignatureAlgorithm: Tlv;
  readonly issuer: Tlv;
  readonly validity: Tlv;
  readonly subject: Tlv;
  readonly spki: Tlv;
  readonly signatureAlgorithm: Tlv;
}

export function certificateParts(der: Buffer): CertificateParts {
  const [tbs, signatureAlgorithm, signature, ...extra] = children(readTlv(der));
  if (!signature || extra.length > 0 || readTlv(der).encoded.length !== der.length) throw new Error('not a Certificate');
  const [version, serial, tbsSignatureAlgorithm, issuer, validity, subject, spki] = children(tbs);
  return { version, serial, tbsSignatureAlgorithm, issuer, validity, subject, spki, signatureAlgorithm };
}

/** The subject Name of a PKCS#10 request, DER. */
export function csrSubject(der: Buffer): Buffer {
  return children(children(readTlv(der))[0])[1].encoded;
}

/** RFC 5280 4.2.1.2 (1): SHA-1 over the subjectPublicKey BIT STRING, without tag, length and unused-bits octet. */
export function keyIdentifierOf(spkiDer: Buffer): string {
  const bitString = children(readTlv(spkiDer))[1];
  if (bitString.tag !== 0x03) throw new Error('SPKI without a BIT STRING');
  return createHash('sha1').update(bitString.content.subarray(1)).digest('hex');
}

/** The SubjectPublicKeyInfo of the CSR's key, DER, from the private key openssl wrote. */
export const csrSpki = (csr: OpensslCsr): Buffer => createPublicKey(csr.keyPem).export({ format: 'der', type: 'spki' });

export interface Asn1Line {
  readonly offset: number;
  readonly depth: number;
  readonly length: number;
  readonly constructed: boolean;
  readonly type: string;
  readonly value: string;
}

/** `openssl asn1parse` of DER, one entry a line. */
export function asn1parse(der: Buffer): Asn1Line[] {
  const output = openssl(['asn1parse', '-inform', 'DER'], der).toString();
  return output.split('\n').filter((line) => line.trim() !== '').map((line) => {
    const match = /^\s*(\d+):d=(\d+)\s+hl=\s*\d+\s+l=\s*(\d+)\s+(prim|cons):\s*(.*?)\s*(?::(.*))?$/.exec(line);
    if (!match) throw new Error(`unexpected asn1parse line: ${line}`);
    return { offset: Number(match[1]), depth: Number(match[2]), length: Number(match[3]), constructed: match[4] === 'cons', type: match[5].trim(), value: (match[6] ?? '').trim() };
  });
}

// ---- an issued certificate, seen three ways ----

export interface IssuedView {
  readonly pem: string;
  readonly der: Buffer;
  readonly node: X509Certificate;
  readonly peculiar: x509.X509Certificate;
  readonly parts: CertificateParts;
  readonly text: string;
}

export function viewCertificate(pem: string): IssuedView {
  const node = new X509Certificate(pem);
  const der = Buffer.from(node.raw);
  return { pem, der, node, peculiar: new x509.X509Certificate(der), parts: certificateParts(der), text: opensslText(pem) };
}

/** Every PEM certificate block in a text, in order. */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** The DER of every certificate in a PEM text. */
export const chainDer = (text: string): Buffer[] => pemCertificates(text).map((pem) => Buffer.from(new X509Certificate(pem).raw));

/** The issuing (intermediate) certificate of a test CA: the first in its chain file. */
export function issuingCertificate(ca: TestCa): IssuedView {
  return viewCertificate(pemCertificates(readFileSync(ca.chainFile, 'utf8'))[0]);
}

/** Asserts a 200 text/plain answer holding exactly one certificate, and returns its PEM. */
export async function expectCertificate(response: Response): Promise<string> {
  const body = await response.text();
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${body}`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(pemCertificates(body)).toHaveLength(1);
  expect(body).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
  return body;
}

/** Posts Anchor's form with the development credentials and returns the issued PEM. */
export async function issueWithForm(ca: TestCa, csrPem: string): Promise<string> {
  const response = await fetch(signUrl(ca), { method: 'POST', body: new URLSearchParams(anchorFields(ca.secret, csrPem)) });
  return expectCertificate(response);
}

/** Counts signatures the RA's signer makes, by wrapping its sign method (the signer still signs). */
export function countSignatures(ca: TestCa, ra = 'default'): { readonly count: number } {
  const signer = ca.runtime.registrationAuthorities.get(ra)!.signingCa.signer;
  const original = signer.sign.bind(signer);
  const counter = { count: 0 };
  signer.sign = (tbs: Uint8Array) => {
    counter.count++;
    return original(tbs);
  };
  return counter;
}

/** Rewrites one line of the generated config, failing loudly if the line is not there. */
export function replaceConfigLine(pattern: RegExp, replacement: string): (yaml: string) => string {
  return (yaml) => {
    if (!pattern.test(yaml)) throw new Error(`the generated config has no line matching ${pattern}`);
    return yaml.replace(pattern, replacement);
  };
}
