// RFC 7468 textual encoding, read by scanning, never by a backtracking regular expression: the text
// comes from clients (a CSR field, up to the body limit), and a pattern such as
// `-{5}BEGIN ([^\n]+(?=-{5}))` or `[\s\S]+?` takes seconds on a crafted megabyte.

/** A DER certificate as PEM (RFC 7468 section 2: lines of 64 base64 characters), newline-terminated. */
export function certificatePem(der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let lines = '';
  for (let start = 0; start < base64.length; start += 64) lines += `${base64.slice(start, start + 64)}\n`;
  return `-----BEGIN CERTIFICATE-----\n${lines}-----END CERTIFICATE-----\n`;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';
const BEGIN_CERTIFICATE = '-----BEGIN CERTIFICATE-----';
const END_CERTIFICATE = '-----END CERTIFICATE-----';

/** Each PEM certificate block in `text`, in order (anything between them is ignored). */
export function pemCertificateBlocks(text: string): string[] {
  const blocks: string[] = [];
  // Each search starts where the last ended, so the text is read once; a BEGIN with no END after it
  // means no later one has an END either.
  for (let begin = text.indexOf(BEGIN_CERTIFICATE); begin >= 0; begin = text.indexOf(BEGIN_CERTIFICATE, begin)) {
    const end = text.indexOf(END_CERTIFICATE, begin + BEGIN_CERTIFICATE.length + 1);
    if (end < 0) break;
    blocks.push(text.slice(begin, end + END_CERTIFICATE.length));
    begin = end + END_CERTIFICATE.length;
  }
  return blocks;
}

/** One block of textual encoding: its label and the DER it carries. */
export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

/** Text that is not RFC 7468 textual encoding; the message says why. */
export class PemFormatError extends Error {
  override readonly name = 'PemFormatError';
}

/**
 * Every block in `text`, in one pass over its lines. RFC 7468 section 3's lax reading: explanatory
 * text around blocks is skipped, line ends may be CRLF, and whitespace in and around the base64
 * lines is ignored. Inside a block only base64 may appear — headers are not permitted (section 2) —
 * and the END line must carry the BEGIN line's label exactly (section 2).
 */
export function decodePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let label: string | undefined;
  let lines: string[] = [];
  for (let start = 0; start <= text.length; ) {
    const newline = text.indexOf('\n', start);
    const stop = newline < 0 ? text.length : newline;
    const line = text.slice(start, stop).trim();
    start = stop + 1;
    if (label === undefined) {
      if (line.startsWith(BEGIN) && line.endsWith(DASHES) && line.length >= BEGIN.length + DASHES.length) {
        label = line.slice(BEGIN.length, line.length - DASHES.length);
        lines = [];
      }
      continue;
    }
    if (!line.startsWith(END)) {
      lines.push(line);
      continue;
    }
    if (line !== `${END}${label}${DASHES}`) throw new PemFormatError('the END line does not carry the BEGIN line\'s label');
    const der = decodeBase64(lines.join(''));
    if (der === undefined) throw new PemFormatError('a block holds something other than base64');
    blocks.push({ label, der });
    label = undefined;
  }
  if (label !== undefined) throw new PemFormatError('a BEGIN line has no END line');
  return blocks;
}

/** Base64 (RFC 4648 section 4) with whitespace anywhere, as pasted; undefined when it is not. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  // Disjoint classes and no nesting: a failed match costs one pass.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}
