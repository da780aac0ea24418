// Independent DER tools for tests: a tiny TLV writer/splitter (so fixtures are not built with the
// codec under test) and `openssl asn1parse` as the reference encoder and decoder.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl } from '../../helpers/openssl';

/** A TLV with a definite, minimal length (X.690 10.1), written without src/der.ts. */
export function tlv(tag: number, ...parts: readonly Uint8Array[]): Buffer {
  const content = Buffer.concat(parts);
  let header: number[];
  if (content.length < 0x80) header = [content.length];
  else {
    const octets: number[] = [];
    for (let n = content.length; n > 0; n = Math.floor(n / 256)) octets.unshift(n % 256);
    header = [0x80 | octets.length, ...octets];
  }
  return Buffer.concat([Buffer.from([tag, ...header]), content]);
}

export const hex = (text: string): Buffer => Buffer.from(text.replace(/\s/g, ''), 'hex');
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** One TLV inside `bytes` at `offset`: its tag, where its contents start and where it ends. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export function tlvAt(bytes: Uint8Array, offset: number): Tlv {
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[contentStart + i];
    contentStart += octets;
  }
  return { tag, start: offset, contentStart, end: contentStart + length };
}

/** The TLVs directly inside a constructed TLV. */
export function childrenOf(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const children: Tlv[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = tlvAt(bytes, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}

export const slice = (bytes: Uint8Array, node: Tlv): Buffer => Buffer.from(bytes.subarray(node.start, node.end));

/** `openssl asn1parse -genstr`: OpenSSL's own DER for e.g. "OID:2.999.3" or "INTEGER:0x80". */
export function opensslGenstr(spec: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-asn1-'));
  try {
    openssl(['asn1parse', '-genstr', spec, '-out', join(dir, 'out.der'), '-noout']);
    return readFileSync(join(dir, 'out.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl asn1parse -inform DER -i`: OpenSSL's reading of some DER, one line per value. */
export const opensslAsn1parse = (der: Uint8Array): string => openssl(['asn1parse', '-inform', 'DER', '-i'], Buffer.from(der)).toString();

/** The dotted form of an OBJECT IDENTIFIER's contents (X.690 8.19), decoded here, not by src/der.ts. */
export function oidText(content: Uint8Array): string {
  const values: number[] = [];
  let value = 0;
  for (const octet of content) {
    value = value * 128 + (octet & 0x7f);
    if ((octet & 0x80) === 0) {
      values.push(value);
      value = 0;
    }
  }
  const [first, ...rest] = values;
  return [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80, ...rest].join('.');
}

export interface CertificateExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue contents, hex. */
  readonly value: string;
}

/** The fields of a DER certificate (RFC 5280 4.1), split with the test's own TLV reader. */
export function certificateFields(der: Uint8Array) {
  const top = childrenOf(der, tlvAt(der, 0));
  const tbs = childrenOf(der, top[0]);
  const [version, serial, signature, issuer, validity, subject, spki, extensionsWrapper] = tbs;
  const [notBefore, notAfter] = childrenOf(der, validity);
  const extensions: CertificateExtension[] = childrenOf(der, childrenOf(der, extensionsWrapper)[0]).map((extension) => {
    const parts = childrenOf(der, extension);
    const value = parts[parts.length - 1];
    return {
      oid: oidText(der.subarray(parts[0].contentStart, parts[0].end)),
      critical: parts.length === 3 && der[parts[1].contentStart] === 0xff,
      value: toHex(der.subarray(value.contentStart, value.end)),
    };
  });
  return {
    tbsFieldCount: tbs.length,
    version: slice(der, version),
    serial: Buffer.from(der.subarray(serial.contentStart, serial.end)),
    signature: slice(der, signature),
    outerSignatureAlgorithm: slice(der, top[1]),
    issuer: slice(der, issuer),
    notBefore: slice(der, notBefore),
    notAfter: slice(der, notAfter),
    subject: slice(der, subject),
    spki: slice(der, spki),
    extensions,
  };
}
