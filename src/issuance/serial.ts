import { randomFillSync } from 'node:crypto';

const SERIAL_OCTETS = 16;
// One CSPRNG call fills serials for 256 certificates: a call costs as much as several small
// hashes, and each certificate needs only 16 bytes. Every byte is used once.
const POOL_OCTETS = SERIAL_OCTETS * 256;
const pool = Buffer.allocUnsafeSlow(POOL_OCTETS);
let used = POOL_OCTETS;

/**
 * RFC 5280 4.1.2.2: a positive serial of at most 20 octets. 16 bytes from the CSPRNG, top bit
 * cleared so the INTEGER is positive without a padding octet: 127 bits of entropy.
 */
export function randomSerialNumber(): Uint8Array {
  if (used === POOL_OCTETS) {
    randomFillSync(pool);
    used = 0;
  }
  const serial = new Uint8Array(pool.subarray(used, used + SERIAL_OCTETS));
  used += SERIAL_OCTETS;
  serial[0] &= 0x7f;
  if (serial[0] === 0) serial[0] = 0x01; // keep a fixed length, so the hex form is stable
  return serial;
}
