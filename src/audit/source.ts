import ipaddr from 'ipaddr.js';

// Where a request came from, in a form an index can range-search: every address as its 16 octets
// (IPv4 as IPv4-mapped IPv6, RFC 4291 2.5.5.2) in lowercase hex, so a CIDR block is the range
// between its first and last address, whichever family and however the address was written.

/** The key of one address. */
const key = (address: ipaddr.IPv4 | ipaddr.IPv6): string => {
  const v6 = address.kind() === 'ipv4' ? (address as ipaddr.IPv4).toIPv4MappedAddress() : (address as ipaddr.IPv6);
  return Buffer.from(v6.toByteArray()).toString('hex');
};

/** Dotted-quad IPv4 or IPv6 only: never a number ipaddr.js would read as octal or hex (010.1, 0x0a.1). */
const plainAddress = (text: string): boolean => ipaddr.IPv4.isValidFourPartDecimal(text) || (text.includes(':') && ipaddr.IPv6.isValid(text));

/** A dotted-quad IPv4 address as isValidFourPartDecimal reads it: no leading zeros. */
const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** A record's source as its index key, or null when it is no address (a local request). */
export function sourceKey(source: string): string | null {
  // Every record has a source, mostly IPv4: its key is written directly, without ipaddr.js's parse
  // (6 µs of the signing thread's time a record, measured 2026-12-06). Anything else goes that way.
  const quad = DOTTED_QUAD.exec(source);
  if (quad) {
    let hex = '00000000000000000000ffff';
    for (let i = 1; i <= 4; i++) hex += Number(quad[i]).toString(16).padStart(2, '0');
    if (hex.length === 32) return hex; // else an octet over 255: no address
  }
  return plainAddress(source) ? key(ipaddr.process(source)) : null;
}

/** The keys an address or CIDR block spans, inclusive, or undefined when the text is neither. */
export function sourceRange(text: string): { readonly low: string; readonly high: string } | undefined {
  const [address, bits, ...rest] = text.trim().split('/');
  if (rest.length > 0 || !plainAddress(address)) return undefined;
  if (bits === undefined) {
    const one = key(ipaddr.process(address));
    return { low: one, high: one };
  }
  if (!/^\d{1,3}$/.test(bits)) return undefined;
  const block = `${address}/${Number(bits)}`;
  const family = address.includes(':') ? ipaddr.IPv6 : ipaddr.IPv4;
  if (!family.isValidCIDR(block)) return undefined;
  return { low: key(family.networkAddressFromCIDR(block)), high: key(family.broadcastAddressFromCIDR(block)) };
}
