import 'reflect-metadata';
import { PemConverter } from '@peculiar/x509';
import { CsrParseError } from './errors';

// RFC 7468 5.1; "NEW CERTIFICATE REQUEST" is the label older OpenSSL and Anchor clients write.
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const DER_SEQUENCE = 0x30;
const BASE64 = /^[A-Za-z0-9+/\s]+={0,2}\s*$/;

/**
 * Turns what a client sent as its CSR into DER: PEM text, raw DER bytes (a file upload or an
 * application/pkcs10 body), or base64 DER (RFC 2986 requests pasted without armour).
 */
export function decodeCsr(input: Uint8Array | string): Uint8Array {
  if (typeof input !== 'string') {
    if (input.length === 0) throw new CsrParseError('the CSR is empty');
    if (input[0] === DER_SEQUENCE) return input;
    input = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  }
  const text = input.trim();
  if (text.length === 0) throw new CsrParseError('the CSR is empty');
  if (text.includes('-----BEGIN')) return decodePem(text);
  if (BASE64.test(text)) {
    const der = Buffer.from(text, 'base64');
    if (der.length > 0 && der[0] === DER_SEQUENCE) return der;
  }
  throw new CsrParseError('the CSR is neither PEM, DER nor base64 DER');
}

function decodePem(text: string): Uint8Array {
  let blocks;
  try {
    blocks = PemConverter.decodeWithHeaders(text);
  } catch {
    throw new CsrParseError('the CSR PEM armour is malformed');
  }
  if (blocks.length === 0) throw new CsrParseError('the CSR PEM armour is malformed');
  if (blocks.length > 1) throw new CsrParseError(`expected one PEM block, found ${blocks.length}`);
  const [block] = blocks;
  if (!CSR_LABELS.has(block.type)) {
    throw new CsrParseError(`expected a PEM block labelled CERTIFICATE REQUEST, found ${JSON.stringify(block.type)}`);
  }
  return new Uint8Array(block.rawData);
}
