import { randomFillSync } from 'node:crypto';

const SERIAL_OCTETS = 16;
/** The issuing millisecond, big-endian, first: 48 bits last until the year 10889. */
const TIME_OCTETS = 6;
const RANDOM_OCTETS = SERIAL_OCTETS - TIME_OCTETS;
// One CSPRNG call fills the random part of 256 serials: a call costs as much as several small
// hashes, and each certificate needs only 10 bytes. Every byte is used once.
const POOL_OCTETS = RANDOM_OCTETS * 256;
const pool = Buffer.allocUnsafeSlow(POOL_OCTETS);
let used = POOL_OCTETS;

/**
 * RFC 5280 4.1.2.2: a positive serial of at most 20 octets; the CA/Browser Forum asks for at least 64
 * bits from a CSPRNG. 16 octets: the issuing time in milliseconds (6 octets), then 10 random octets
 * (80 bits). The time first makes later serials sort after earlier ones, so the ledger's serial index
 * grows at its end: a random serial lands on a random page of that index, and at 300,000 records
 * indexing a certificate cost ~43 µs more of CPU for it (2026-12-06, bench/README.md). The first
 * octet is 0x01 until 2039 (0x7f only in the year 6429): positive with no padding octet, 16 octets long.
 */
export function newSerialNumber(now = Date.now()): Uint8Array {
  if (used === POOL_OCTETS) {
    randomFillSync(pool);
    used = 0;
  }
  const serial = new Uint8Array(SERIAL_OCTETS);
  new DataView(serial.buffer).setUint16(0, Math.floor(now / 2 ** 32));
  new DataView(serial.buffer).setUint32(2, now % 2 ** 32);
  serial.set(pool.subarray(used, used + RANDOM_OCTETS), TIME_OCTETS);
  used += RANDOM_OCTETS;
  return serial;
}
