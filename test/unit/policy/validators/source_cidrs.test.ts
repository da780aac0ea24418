import type { PolicyRequest } from '../../../../src/policy/validator';
import validator from '../../../../validators/source_cidrs';
import { configure, optionIssues, opensslRequest } from '../policy_request';

const OPTIONS = { cidrs: ['10.0.0.0/8', '2001:db8::/32'] };
const NETWORKS = '[10.0.0.0/8, 2001:db8::/32]';

let request: PolicyRequest;
beforeAll(() => {
  request = opensslRequest({ subject: '/CN=a.example.com' });
});

const from = (sourceAddress: string, options: object = OPTIONS) => validator.check({ ...request, sourceAddress }, configure(validator, options));

describe('source_cidrs', () => {
  it('passes a client inside a listed network', () => {
    expect(from('10.1.2.3')).toEqual([]);
    expect(from('2001:db8::1')).toEqual([]);
  });

  it('refuses a client outside every listed network', () => {
    expect(from('192.168.0.1')).toEqual([`the client address 192.168.0.1 is outside the allowed networks ${NETWORKS}`]);
  });

  it('refuses an IPv6 client outside, naming it in canonical form', () => {
    expect(from('2001:DB9:0:0::1')).toEqual([`the client address 2001:db9::1 is outside the allowed networks ${NETWORKS}`]);
    expect(from('::1')).toEqual([`the client address ::1 is outside the allowed networks ${NETWORKS}`]);
  });

  it('treats an IPv4-mapped client address (a dual-stack socket) as IPv4', () => {
    expect(from('::ffff:10.0.0.1')).toEqual([]);
    expect(from('::FFFF:192.168.0.1')).toEqual([`the client address 192.168.0.1 is outside the allowed networks ${NETWORKS}`]);
  });

  it('matches an IPv4 client against a network written IPv4-mapped', () => {
    expect(from('10.2.3.4', { cidrs: ['::ffff:10.0.0.0/104'] })).toEqual([]);
    expect(from('11.2.3.4', { cidrs: ['::ffff:10.0.0.0/104'] })).toEqual(['the client address 11.2.3.4 is outside the allowed networks [::ffff:10.0.0.0/104]']);
  });

  it('treats a bare address as a /32', () => {
    expect(from('10.0.0.1', { cidrs: ['10.0.0.1'] })).toEqual([]);
    expect(from('10.0.0.2', { cidrs: ['10.0.0.1'] })).toEqual(['the client address 10.0.0.2 is outside the allowed networks [10.0.0.1]']);
  });

  it('refuses every client when no networks are listed', () => {
    expect(from('10.0.0.1', {})).toEqual(['the client address 10.0.0.1 is outside the allowed networks []']);
  });

  it('refuses a client address that is not an IP address', () => {
    expect(from('localhost')).toEqual(['the client address "localhost" is not an IP address']);
    expect(from('')).toEqual(['the client address "" is not an IP address']);
  });

  it('does not read the shorthand forms inet_aton takes as IPs', () => {
    expect(from('10.1')).toEqual(['the client address "10.1" is not an IP address']);
    expect(from('0xa.0.0.1')).toEqual(['the client address "0xa.0.0.1" is not an IP address']);
  });

  it('refuses an address with a NUL', () => {
    expect(from('10.0.0.1\u0000')).toEqual(['the client address "10.0.0.1\\u0000" is not an IP address']);
  });

  describe('options', () => {
    it('defaults to no networks', () => {
      expect(validator.options.parse({})).toEqual({ cidrs: [] });
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { cidr: ['10.0.0.0/8'] })).toEqual([': Unrecognized key: "cidr"']);
    });

    it('refuses a wrong type', () => {
      expect(optionIssues(validator, { cidrs: '10.0.0.0/8' })).toEqual(['cidrs: Invalid input: expected array, received string']);
    });

    it('refuses something that is not a network', () => {
      expect(optionIssues(validator, { cidrs: ['10.0.0.0/33', '300.0.0.0/8', '2001:db8::/129', 'intranet'] })).toEqual([
        'cidrs.0: not an IP address or network in CIDR form',
        'cidrs.1: not an IP address or network in CIDR form',
        'cidrs.2: not an IP address or network in CIDR form',
        'cidrs.3: not an IP address or network in CIDR form',
      ]);
    });

    // ipaddr.js reads these inet_aton-style: "10/8" is 0.0.0.10/8, "192.168.1/24" is 192.168.0.1/24,
    // "010.0.0.0/8" is 8.0.0.0/8 (octal). A client address in those forms is refused (above), so a
    // network written that way must be refused too, not silently mean another network.
    it('refuses shorthand IPv4 forms that would silently mean another network', () => {
      expect(optionIssues(validator, { cidrs: ['10/8', '192.168.1/24', '010.0.0.0/8', '10.1'] })).toEqual([
        'cidrs.0: not an IP address or network in CIDR form',
        'cidrs.1: not an IP address or network in CIDR form',
        'cidrs.2: not an IP address or network in CIDR form',
        'cidrs.3: not an IP address or network in CIDR form',
      ]);
    });
  });
});
