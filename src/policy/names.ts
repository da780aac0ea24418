// Name handling shared by every validator, so that all of them agree on what a name is.
// Anchor compared names case-sensitively and mis-handled IPs; these rules fix that in one place.
import ipaddr from 'ipaddr.js';
import { OID } from '../x509/oids';
import { EMAIL_ADDRESS } from '../issuance/lint';
import type { IssuanceNames, SubjectAttribute } from '../types';

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
  // RFC 1035 2.3.4: labels of at most 63 octets, names of at most 253 characters.
  if (name.length > 253 || name.split('.').some((label) => label.length > 63)) return { problem: `name ${JSON.stringify(raw)} is longer than DNS allows` };
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
  // ipaddr.js also takes "0x7f.1", "127.1" and octal "0177.0.0.1", which other software reads
  // differently; only the plain dotted quad is an IPv4 address here.
  // The shape tests first: ipaddr.js throws (and builds a stack) for every DNS name it is shown.
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(text)) return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : undefined;
  if (!text.includes(':')) return undefined;
  // Zone ids (fe80::1%eth0) name an interface, not an address a certificate can carry.
  if (text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  // An embedded IPv4 part only in the mapped form ::ffff:a.b.c.d, and only as a plain dotted quad:
  // ipaddr.js would also read the deprecated ::a.b.c.d, and hex or octal parts, as mapped addresses.
  if (text.includes('.')) {
    const mapped = /^::ffff:([^:]+)$/i.exec(text);
    if (!mapped || !ipaddr.IPv4.isValidFourPartDecimal(mapped[1])) return undefined;
  }
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

/** A name from a request, classified once: a DNS name (normalised), an IP address, or unusable. */
export type Identifier =
  | { readonly kind: 'dns'; readonly raw: string; readonly name: string; readonly wildcard: boolean }
  | { readonly kind: 'ip'; readonly raw: string; readonly address: ipaddr.IPv4 | ipaddr.IPv6 }
  | { readonly kind: 'invalid'; readonly raw: string; readonly problem: string };

/** Classifies a CN or dNSName. An IP written as a DNS name is treated as the IP it is. */
export function classifyName(raw: string): Identifier {
  const address = parseIpAddress(raw);
  if (address) return { kind: 'ip', raw, address };
  const normalized = normalizeDnsName(raw);
  if ('problem' in normalized) return { kind: 'invalid', raw, problem: normalized.problem };
  const wildcard = wildcardProblem(normalized.name);
  if (wildcard) return { kind: 'invalid', raw, problem: wildcard };
  return { kind: 'dns', raw, name: normalized.name, wildcard: isWildcard(normalized.name) };
}

/** The form a name is issued and compared in: a normalised DNS name, an address in canonical text; an unusable name as sent. */
export const canonicalName = (identifier: Identifier): string =>
  identifier.kind === 'dns' ? identifier.name : identifier.kind === 'ip' ? identifier.address.toString() : identifier.raw;

/**
 * The subjectAltNames a certificate for this request carries: the CN first, then the requested
 * names, each in the form clients match (RFC 6125 6.4: lower case, no trailing dot), an IP sent as
 * a dNSName as the iPAddress it is (RFC 5280 4.2.1.6), each once. Validators judge these, so the
 * names policy checked are the names issued. A name that is neither stays as sent, so validators
 * refuse it.
 */
export function issuanceNames(commonNames: readonly string[], requested: IssuanceNames): IssuanceNames {
  const dnsNames = new Set<string>();
  const ipAddresses = new Set<string>();
  for (const raw of [...commonNames, ...requested.dnsNames, ...requested.ipAddresses]) {
    const identifier = classifyName(raw);
    (identifier.kind === 'ip' ? ipAddresses : dnsNames).add(canonicalName(identifier));
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

/**
 * The subject a certificate for this request carries: its CN in issued form (as in the SAN), and the
 * attributes of the types the RA names (`subject_attributes`); every other attribute is left out, so
 * nothing reaches a certificate that no validator was configured to judge.
 */
export function issuedSubject(attributes: readonly SubjectAttribute[], namedTypes: readonly string[]): SubjectAttribute[] {
  return attributes.flatMap((attribute) => {
    if (attribute.type === OID.commonName) return [{ type: attribute.type, value: canonicalName(classifyName(attribute.value)) }];
    return namedTypes.includes(attribute.type) && attribute.type !== EMAIL_ADDRESS ? [{ type: attribute.type, value: attribute.value }] : [];
  });
}

/** Where an identifier came from, for reasons: "common name", "DNS name", "IP address". */
export interface SourcedIdentifier {
  readonly source: 'common name' | 'DNS name' | 'IP address';
  readonly identifier: Identifier;
}

/**
 * Every identifier the certificate would carry: the CNs, the DNS and the IP subjectAltNames. A
 * subjectAltName that is a CN's issued form is that CN, listed once (as the common name).
 */
export function requestIdentifiers(commonNames: readonly string[], names: { readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] }): SourcedIdentifier[] {
  const common = commonNames.map((raw) => ({ source: 'common name' as const, identifier: classifyName(raw) }));
  const issuedCommonNames = new Set(common.map(({ identifier }) => canonicalName(identifier)));
  const alternative = [
    ...names.dnsNames.map((raw) => ({ source: 'DNS name' as const, identifier: classifyName(raw) })),
    ...names.ipAddresses.map((raw) => ({ source: 'IP address' as const, identifier: classifyName(raw) })),
  ];
  return [...common, ...alternative.filter(({ identifier }) => !issuedCommonNames.has(canonicalName(identifier)))];
}

/** The reasons a domain-list validator gives for one DNS identifier, or none when it is allowed. */
export function domainReasons(
  source: string,
  identifier: Extract<Identifier, { kind: 'dns' }>,
  allowedDomains: readonly string[],
  allowWildcard: boolean,
): string[] {
  if (identifier.wildcard && !allowWildcard) return [`${source} '${identifier.raw}' is a wildcard, which this RA does not allow`];
  if (!inAllowedDomains(identifier.name, allowedDomains)) return [`${source} '${identifier.raw}' is outside the allowed domains [${allowedDomains.join(', ')}]`];
  return [];
}

/** The reason an address is refused by a network list, or none. */
export function networkReasons(source: string, address: ipaddr.IPv4 | ipaddr.IPv6, allowedNetworks: readonly string[]): string[] {
  return inNetworks(address, allowedNetworks) ? [] : [`${source} ${address} is outside the allowed networks [${allowedNetworks.join(', ')}]`];
}

/**
 * The reasons to refuse a request's subjectAltNames: DNS names outside the domains, IPs outside the
 * networks (every IP, when `allowedNetworks` is undefined), and SAN kinds Mayfly does not issue.
 */
export function alternativeNameReasons(
  request: { readonly csr: { readonly unsupportedNames: readonly { readonly kind: string }[] }; readonly names: { readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] } },
  options: { readonly allowed_domains: readonly string[]; readonly allow_wildcard: boolean; readonly allowed_networks?: readonly string[] },
  validator: string,
): string[] {
  const reasons: string[] = [];
  for (const raw of [...request.names.dnsNames, ...request.names.ipAddresses]) {
    const identifier = classifyName(raw);
    if (identifier.kind === 'invalid') reasons.push(`DNS name: ${identifier.problem}`);
    else if (identifier.kind === 'dns') reasons.push(...domainReasons('DNS name', identifier, options.allowed_domains, options.allow_wildcard));
    else if (options.allowed_networks) reasons.push(...networkReasons('IP address', identifier.address, options.allowed_networks));
    else reasons.push(`IP address ${identifier.address} is not allowed (${validator} takes DNS names only; use alternative_names_ip)`);
  }
  for (const name of request.csr.unsupportedNames) reasons.push(`subjectAltName of kind ${name.kind} is not supported`);
  return reasons;
}

/**
 * Whether a DNS identifier is, or may stand for, `listed` or a name under it: equal, under it, or a
 * wildcard one label above it (`*.example.com` covers `secret.example.com`).
 */
export function coversDomain(identifier: Extract<Identifier, { kind: 'dns' }>, listed: string): boolean {
  if (identifier.name === listed || identifier.name.endsWith(`.${listed}`)) return true;
  return identifier.wildcard && listed.slice(listed.indexOf('.') + 1) === identifier.name.slice(2);
}

/** Whether `text` is a valid CIDR network or bare address, for option schemas. */
export function isNetwork(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  if (rest.length > 0 || parseIpAddress(address) === undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && ipaddr.isValidCIDR(text));
}
