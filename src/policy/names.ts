// Name handling shared by every validator, so that all of them agree on what a name is.
// Anchor compared names case-sensitively and mis-handled IPs; these rules fix that in one place.
import ipaddr from 'ipaddr.js';

/** A DNS name in the form validators compare: lower case, without its one trailing dot. */
export type NormalizedName = { readonly name: string } | { readonly problem: string };

const A_LABEL_TEXT = /^[a-z0-9*_-]+$/;

/**
 * RFC 1034 3.1 / RFC 5890: names compare case-insensitively and a single trailing dot is the
 * root. Non-ASCII must arrive as A-labels (xn--); NUL and control characters are never names.
 */
export function normalizeDnsName(raw: string): NormalizedName {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { problem: `name ${JSON.stringify(raw)} contains control characters` };
  if (/[^\u0000-\u007f]/.test(raw)) return { problem: `name ${JSON.stringify(raw)} is not ASCII; send internationalised names as A-labels (xn--)` };
  const name = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  if (name.length === 0 || name.split('.').some((label) => label.length === 0)) return { problem: `name ${JSON.stringify(raw)} has an empty label` };
  if (!name.split('.').every((label) => A_LABEL_TEXT.test(label))) return { problem: `name ${JSON.stringify(raw)} contains characters not allowed in a DNS name` };
  return { name };
}

/** Whether `name` is a wildcard name: `*` as the whole leftmost label, and nowhere else. */
export function isWildcard(name: string): boolean {
  return name.startsWith('*.') && !name.slice(2).includes('*');
}

/** The reason a wildcard name is malformed, if it is: `*` only as the whole leftmost label. */
export function wildcardProblem(name: string): string | undefined {
  if (!name.includes('*') || isWildcard(name)) return undefined;
  return `name '${name}' has a wildcard that is not the whole leftmost label`;
}

/**
 * Whether a normalised name lies in one of the allowed domains: an entry starting with `.`
 * matches names under it (not the domain itself), any other entry matches exactly.
 */
export function inAllowedDomains(name: string, allowedDomains: readonly string[]): boolean {
  return allowedDomains.some((entry) => {
    const domain = entry.toLowerCase().replace(/\.$/, '');
    return domain.startsWith('.') ? name.endsWith(domain) && name.length > domain.length : name === domain;
  });
}

/** An IP address in text, or undefined if `text` is not one. IPv4-mapped IPv6 becomes IPv4. */
export function parseIpAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  // ipaddr.js also takes "0x7f.1" and "127.1"; only the plain dotted-quad and IPv6 forms are IPs here.
  if (!ipaddr.IPv6.isValid(text) && !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return ipaddr.process(text);
}

/** Whether an address lies in any of the CIDR networks (a bare address counts as /32 or /128). */
export function inNetworks(address: ipaddr.IPv4 | ipaddr.IPv6, networks: readonly string[]): boolean {
  return networks.some((network) => {
    const [range, bits] = network.includes('/') ? ipaddr.parseCIDR(network) : [ipaddr.parse(network), undefined];
    const normalizedRange = range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress() ? (range as ipaddr.IPv6).toIPv4Address() : range;
    const prefix = bits === undefined ? (normalizedRange.kind() === 'ipv4' ? 32 : 128) : normalizedRange === range ? bits : bits - 96;
    return address.kind() === normalizedRange.kind() && address.match(normalizedRange, prefix);
  });
}

/** Whether `text` is a valid CIDR network or bare address, for option schemas. */
export function isNetwork(text: string): boolean {
  return text.includes('/') ? ipaddr.isValidCIDR(text) : ipaddr.isValid(text);
}
