// A certificate serial as people paste it (OpenSSL's 0A:1B:..., a browser's 0a 1b ..., 0x0a1b, any
// case, with or without leading zeros) in the one form the ledger keeps: the DER INTEGER's content
// octets in lowercase hex, two digits an octet (what Mayfly writes, and Node's serialNumber padded).

/** RFC 5280 4.1.2.2: a serial is at most 20 octets. */
const MAX_OCTETS = 20;

/** The ledger's form of a serial, or undefined when the text is not one (not hex, zero, too long). */
export function normalizeSerial(text: string): string | undefined {
  const digits = text.trim().replace(/^0x/i, '').replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(digits)) return undefined;
  const value = digits.replace(/^0+/, '');
  // RFC 5280 4.1.2.2: positive, so zero is no serial.
  if (value === '') return undefined;
  const even = value.length % 2 === 1 ? `0${value}` : value;
  // DER: a first octet with its top bit set gets a 00 octet before it, or the INTEGER is negative.
  const octets = /^[89a-f]/.test(even) ? `00${even}` : even;
  return octets.length / 2 > MAX_OCTETS ? undefined : octets;
}
