import { CsrParseError } from '../../../../src/csr/errors';
import validator from '../../../../validators/alternative_names_ip';
import { buildCsr, check, optionIssues, OIDS, opensslRequest, requestFromCsr, subjectAltNameValue } from '../policy_request';

const OPTIONS = { allowed_domains: ['.example.com'], allowed_networks: ['10.0.0.0/8', '2001:db8::/32'] };
const NETWORKS = '[10.0.0.0/8, 2001:db8::/32]';

const withSan = (san: string, options: object = OPTIONS) => check(validator, options, opensslRequest({ subject: '/CN=svc.example.com', extensions: [`subjectAltName=${san}`] }));

describe('alternative_names_ip', () => {
  it('passes DNS names inside the domains and IPv4 and IPv6 addresses inside the networks', () => {
    expect(withSan('DNS:a.example.com,IP:10.1.2.3,IP:2001:db8::5')).toEqual([]);
  });

  it('refuses a DNS name outside the allowed domains', () => {
    expect(withSan('DNS:a.example.com,DNS:evil.com')).toEqual(["DNS name 'evil.com' is outside the allowed domains [.example.com]"]);
  });

  it('does not let a leading-dot entry match the domain itself or a look-alike suffix', () => {
    expect(withSan('DNS:example.com,DNS:badexample.com')).toEqual([
      "DNS name 'example.com' is outside the allowed domains [.example.com]",
      "DNS name 'badexample.com' is outside the allowed domains [.example.com]",
    ]);
  });

  it('matches an entry without a leading dot exactly', () => {
    const options = { allowed_domains: ['exact.example.com'] };
    expect(withSan('DNS:exact.example.com', options)).toEqual([]);
    expect(withSan('DNS:a.exact.example.com', options)).toEqual(["DNS name 'a.exact.example.com' is outside the allowed domains [exact.example.com]"]);
  });

  it('refuses an IPv4 address outside the networks', () => {
    expect(withSan('IP:192.168.1.1')).toEqual([`IP address 192.168.1.1 is outside the allowed networks ${NETWORKS}`]);
  });

  it('refuses an IPv6 address outside the networks, in canonical form', () => {
    expect(withSan('IP:2001:DB9:0:0::1')).toEqual([`IP address 2001:db9::1 is outside the allowed networks ${NETWORKS}`]);
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address it is', () => {
    expect(withSan('IP:::ffff:10.0.0.1')).toEqual([]);
    expect(withSan('IP:::ffff:192.168.0.1')).toEqual([`IP address 192.168.0.1 is outside the allowed networks ${NETWORKS}`]);
  });

  it('matches an IPv4 address against an IPv4-mapped network', () => {
    expect(withSan('IP:10.9.9.9', { allowed_networks: ['::ffff:10.0.0.0/104'] })).toEqual([]);
    expect(withSan('IP:11.0.0.1', { allowed_networks: ['::ffff:10.0.0.0/104'] })).toEqual(['IP address 11.0.0.1 is outside the allowed networks [::ffff:10.0.0.0/104]']);
  });

  it('checks an IP written as a dNSName as the IP it is', () => {
    expect(withSan('DNS:10.0.0.7')).toEqual([]);
    expect(withSan('DNS:192.168.0.7')).toEqual([`IP address 192.168.0.7 is outside the allowed networks ${NETWORKS}`]);
  });

  it('refuses every IP when no networks are configured', () => {
    expect(withSan('DNS:a.example.com,IP:10.0.0.1', { allowed_domains: ['.example.com'] })).toEqual(['IP address 10.0.0.1 is outside the allowed networks []']);
  });

  it('compares names case-insensitively (Anchor compared case-sensitively)', () => {
    expect(withSan('DNS:UPPER.EXAMPLE.COM')).toEqual([]);
    expect(withSan('DNS:a.example.com', { allowed_domains: ['.EXAMPLE.COM'] })).toEqual([]);
    expect(withSan('DNS:UPPER.EVIL.COM')).toEqual(["DNS name 'UPPER.EVIL.COM' is outside the allowed domains [.example.com]"]);
  });

  it('accepts a trailing dot on a name and on an allowed domain', () => {
    expect(withSan('DNS:a.example.com.')).toEqual([]);
    expect(withSan('DNS:a.example.com', { allowed_domains: ['.example.com.'] })).toEqual([]);
    expect(withSan('DNS:a.evil.com.')).toEqual(["DNS name 'a.evil.com.' is outside the allowed domains [.example.com]"]);
  });

  it('accepts an internationalised name as an A-label', () => {
    expect(withSan('DNS:xn--bcher-kva.example.com')).toEqual([]);
  });

  it('refuses a raw UTF-8 dNSName when the CSR is parsed', () => {
    const der = buildCsr({ extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ rawDns: Buffer.from('bücher.example.com', 'utf8') }]) }] });
    expect(() => requestFromCsr(der)).toThrow(CsrParseError);
    expect(() => requestFromCsr(der)).toThrow(new CsrParseError('a dNSName holds non-ASCII bytes; use the A-label (xn--) form'));
  });

  it('refuses a wildcard unless allow_wildcard is set', () => {
    expect(withSan('DNS:*.example.com')).toEqual(["DNS name '*.example.com' is a wildcard, which this RA does not allow"]);
    expect(withSan('DNS:*.example.com', { ...OPTIONS, allow_wildcard: true })).toEqual([]);
    expect(withSan('DNS:*.evil.com', { ...OPTIONS, allow_wildcard: true })).toEqual(["DNS name '*.evil.com' is outside the allowed domains [.example.com]"]);
  });

  it('refuses a wildcard that is not the whole leftmost label, even when wildcards are allowed', () => {
    expect(withSan('DNS:a.*.example.com', { ...OPTIONS, allow_wildcard: true })).toEqual(["DNS name: name 'a.*.example.com' has a wildcard that is not the whole leftmost label"]);
    expect(withSan('DNS:w*.example.com', { ...OPTIONS, allow_wildcard: true })).toEqual(["DNS name: name 'w*.example.com' has a wildcard that is not the whole leftmost label"]);
  });

  it('refuses a dNSName with a NUL, which could hide a suffix', () => {
    const der = buildCsr({ extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'evil.com\u0000.example.com' }]) }] });
    expect(check(validator, OPTIONS, requestFromCsr(der))).toEqual(['DNS name: name "evil.com\\u0000.example.com" contains control characters']);
  });

  it('refuses a name with characters no DNS name has', () => {
    const der = buildCsr({ extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'a b.example.com' }, { dns: 'a..example.com' }]) }] });
    expect(check(validator, OPTIONS, requestFromCsr(der))).toEqual([
      'DNS name: name "a b.example.com" contains characters not allowed in a DNS name',
      'DNS name: name "a..example.com" has an empty label',
    ]);
  });

  it('refuses subjectAltName kinds Mayfly does not issue', () => {
    expect(withSan('DNS:a.example.com,email:ops@example.com')).toEqual(['subjectAltName of kind rfc822Name is not supported']);
  });

  it('gives every reason, not just the first', () => {
    expect(withSan('DNS:evil.com,IP:192.168.0.1,DNS:*.example.com')).toEqual([
      "DNS name 'evil.com' is outside the allowed domains [.example.com]",
      "DNS name '*.example.com' is a wildcard, which this RA does not allow",
      `IP address 192.168.0.1 is outside the allowed networks ${NETWORKS}`,
    ]);
  });

  it('checks the names to issue (request.names), not the CSR alone', () => {
    const request = opensslRequest({ subject: '/CN=svc.example.com', extensions: ['subjectAltName=DNS:a.example.com'] });
    expect(validator.check({ ...request, names: { dnsNames: ['a.example.com'], ipAddresses: ['172.16.0.1'] } }, validator.options.parse(OPTIONS))).toEqual([
      `IP address 172.16.0.1 is outside the allowed networks ${NETWORKS}`,
    ]);
  });

  describe('options', () => {
    it('fills in defaults', () => {
      expect(validator.options.parse({})).toEqual({ allowed_domains: [], allowed_networks: [], allow_wildcard: false });
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { allowed_network: ['10.0.0.0/8'] })).toEqual([': Unrecognized key: "allowed_network"']);
    });

    it('refuses wrong types', () => {
      expect(optionIssues(validator, { allowed_networks: '10.0.0.0/8', allow_wildcard: 'yes' })).toEqual([
        'allowed_networks: Invalid input: expected array, received string',
        'allow_wildcard: Invalid input: expected boolean, received string',
      ]);
    });

    it('refuses a network that is not one', () => {
      expect(optionIssues(validator, { allowed_networks: ['10.0.0.0/33', 'example.com'] })).toEqual([
        'allowed_networks.0: not an IP address or network in CIDR form',
        'allowed_networks.1: not an IP address or network in CIDR form',
      ]);
    });

    it('refuses an empty domain', () => {
      expect(optionIssues(validator, { allowed_domains: [''] })).toEqual(['allowed_domains.0: Too small: expected string to have >=1 characters']);
    });
  });
});
