import { decodeBase64, decodePemBlocks, PemFormatError, type PemBlock } from '../pem';
import { CsrParseError } from './errors';

// RFC 7468 5.1; "NEW CERTIFICATE REQUEST" is the label older OpenSSL and Anchor clients write.
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const DER_SEQUENCE = 0x30;

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
  const der = decodeBase64(text);
  if (der !== undefined && der.length > 0 && der[0] === DER_SEQUENCE) return der;
  throw new CsrParseError('the CSR is neither PEM, DER nor base64 DER');
}

function decodePem(text: string): Uint8Array {
  let blocks: PemBlock[];
  try {
    blocks = decodePemBlocks(text);
  } catch (error) {
    if (error instanceof PemFormatError) throw new CsrParseError('the CSR PEM armour is malformed');
    throw error;
  }
  if (blocks.length === 0) throw new CsrParseError('the CSR PEM armour is malformed');
  if (blocks.length > 1) throw new CsrParseError(`expected one PEM block, found ${blocks.length}`);
  const [block] = blocks;
  if (!CSR_LABELS.has(block.label)) {
    throw new CsrParseError(`expected a PEM block labelled CERTIFICATE REQUEST, found ${JSON.stringify(block.label.slice(0, 64))}`);
  }
  return block.der;
}
