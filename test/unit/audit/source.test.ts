import ipaddr from 'ipaddr.js';
import { sourceKey, sourceRange } from '../../../src/audit/source';

describe('source keys and ranges', () => {
  const mapped = (hex: string) => `00000000000000000000ffff${hex}`;

  it('files IPv4, IPv4-mapped IPv6 and IPv6 sources under 16-octet keys; anything else under none', () => {
    expect(sourceKey('127.0.0.1')).toBe(mapped('7f000001'));
    expect(sourceKey('::ffff:127.0.0.1')).toBe(mapped('7f000001'));
    expect(sourceKey('2001:db8::1')).toBe('20010db8000000000000000000000001');
    expect(sourceKey('local')).toBeNull();
    expect(sourceKey('')).toBeNull();
  });

  it('spans a CIDR block from its first to its last address, whatever host bits it was written with', () => {
    expect(sourceRange('10.0.0.0/8')).toEqual({ low: mapped('0a000000'), high: mapped('0affffff') });
    expect(sourceRange('10.1.2.3/8')).toEqual({ low: mapped('0a000000'), high: mapped('0affffff') });
    expect(sourceRange('2001:db8::/32')).toEqual({ low: '20010db8000000000000000000000000', high: '20010db8ffffffffffffffffffffffff' });
    expect(sourceRange('10.0.0.7')).toEqual({ low: mapped('0a000007'), high: mapped('0a000007') });
    expect(sourceRange('::ffff:10.0.0.7')).toEqual(sourceRange('10.0.0.7'));
  });

  it.each(['010.0.0.1', '0x0a.0.0.1', '10.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/8/8', '2001:db8::/129', 'example.com', ''])('refuses %s', (text) => {
    expect(sourceRange(text)).toBeUndefined();
  });
});

describe('the dotted-quad shortcut', () => {
  // The key ipaddr.js gives, the way sourceKey took it for every address before the shortcut.
  const parsed = (text: string): string | null =>
    ipaddr.IPv4.isValidFourPartDecimal(text) ? Buffer.from(ipaddr.IPv4.parse(text).toIPv4MappedAddress().toByteArray()).toString('hex') : null;

  it.each(['0.0.0.0', '255.255.255.255', '10.0.0.1', '192.168.100.7', '256.0.0.1', '1.2.3.256', '999.1.1.1', '01.2.3.4', '1.2.3.04', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4\n', '1e2.0.0.1', '0x7f.0.0.1', '٣.1.1.1'])('keys %j as ipaddr.js does', (text) => {
    expect(sourceKey(text)).toBe(parsed(text));
  });

  it('keys every octet value as ipaddr.js does', () => {
    for (let octet = 0; octet <= 256; octet++) for (const text of [`${octet}.1.2.3`, `4.5.6.${octet}`]) expect(sourceKey(text)).toBe(parsed(text));
  });
});
