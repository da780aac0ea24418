import { randomBytes } from 'node:crypto';

const SERIAL_OCTETS = 16;

/**
 * RFC 5280 4.1.2.2: a positive serial of at most 20 octets. 16 bytes from the CSPRNG, top bit
 * cleared so the INTEGER is positive without a padding octet: 127 bits of entropy.
 */
export function randomSerialNumber(): Uint8Array {
  const serial = randomBytes(SERIAL_OCTETS);
  serial[0] &= 0x7f;
  if (serial[0] === 0) serial[0] = 0x01; // keep a fixed length, so the hex form is stable
  return serial;
}
