import ipaddr from 'ipaddr.js';
import { inNetworks } from '../../policy/names';
import type { AcmeProfile } from '../../ra/registration_authority';

/**
 * Where validation never connects, whatever the config says (SSRF): link-local (169.254.0.0/16 holds
 * the cloud metadata service at 169.254.169.254), the other cloud metadata addresses, unspecified,
 * multicast and reserved space.
 */
const ALWAYS_DENIED = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32', '0.0.0.0/8', '::/128', '224.0.0.0/4', '240.0.0.0/4', 'ff00::/8'];
/** Loopback is denied unless the RA allows it (tests on one machine). */
const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/** Why validation must not connect to this address; undefined when it may. */
export function deniedAddressReason(text: string, validation: AcmeProfile['validation']): string | undefined {
  if (!ipaddr.isValid(text)) return `'${text}' is not an IP address`;
  let address = ipaddr.parse(text);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  if (inNetworks(address, ALWAYS_DENIED)) return `${address.toString()} is link-local, a metadata address or reserved; validation never connects there`;
  if (!validation.allowLoopback && inNetworks(address, LOOPBACK)) return `${address.toString()} is loopback; validation does not connect there`;
  if (inNetworks(address, validation.deniedRanges)) return `${address.toString()} is in a range this RA denies to validation`;
  return undefined;
}
