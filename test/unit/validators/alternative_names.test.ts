import alternativeNames from '../../../validators/alternative_names';
import { dnsNameExtension, handBuiltRequest, requestFor } from '../support/csr';

const options = alternativeNames.options.parse({ allowed_domains: ['.mayfly.test', 'mayfly.test'] });
const withWildcards = alternativeNames.options.parse({ allowed_domains: ['.mayfly.test'], allow_wildcard: true });
const DOMAINS = '[.mayfly.test, mayfly.test]';
const IP_ONLY = '(alternative_names takes DNS names only; use alternative_names_ip)';

/** The reasons for a request with this subjectAltName value (openssl -addext syntax). */
const reasonsFor = (san: string, opts = options) => alternativeNames.check(requestFor({ extensions: [`subjectAltName=${san}`] }), opts);

describe('alternative_names', () => {
  it('is named as in YAML', () => {
    expect(alternativeNames.name).toBe('alternative_names');
  });

  it('passes DNS names inside the allowed domains', () => {
    expect(reasonsFor('DNS:svc.mayfly.test,DNS:mayfly.test,DNS:a.b.mayfly.test')).toEqual([]);
  });

  it('passes a request without a subjectAltName', () => {
    expect(alternativeNames.check(requestFor({ extensions: [] }), options)).toEqual([]);
  });

  it('refuses each DNS name outside the domains, quoting it as written', () => {
    expect(reasonsFor('DNS:svc.mayfly.test,DNS:Evil.Example,DNS:mayfly.test.evil.example')).toEqual([
      `DNS name 'Evil.Example' is outside the allowed domains ${DOMAINS}`,
      `DNS name 'mayfly.test.evil.example' is outside the allowed domains ${DOMAINS}`,
    ]);
  });

  it('refuses the domain itself for a leading-dot entry alone', () => {
    expect(reasonsFor('DNS:mayfly.test', withWildcards)).toEqual(["DNS name 'mayfly.test' is outside the allowed domains [.mayfly.test]"]);
  });

  it('passes names in upper case and with one trailing dot', () => {
    expect(reasonsFor('DNS:SVC.MAYFLY.TEST,DNS:svc.mayfly.test.')).toEqual([]);
  });

  it('refuses a name with two trailing dots', () => {
    expect(reasonsFor('DNS:svc.mayfly.test..')).toEqual(['DNS name: name "svc.mayfly.test.." has an empty label']);
  });

  it('passes an A-label', () => {
    expect(reasonsFor('DNS:xn--bcher-kva.mayfly.test')).toEqual([]);
  });

  it('refuses a raw UTF-8 name among the names to be issued', () => {
    const request = requestFor();
    expect(alternativeNames.check({ ...request, names: { dnsNames: ['bücher.mayfly.test'], ipAddresses: [] } }, options)).toEqual([
      'DNS name: name "bücher.mayfly.test" is not ASCII; send internationalised names as A-labels (xn--)',
    ]);
  });

  it('refuses a dNSName with a NUL', () => {
    const request = handBuiltRequest({ extensions: [dnsNameExtension('svc.mayfly.test\u0000.evil.example')] });
    expect(request.names.dnsNames).toEqual(['svc.mayfly.test\u0000.evil.example']);
    expect(alternativeNames.check(request, options)).toEqual(['DNS name: name "svc.mayfly.test\\u0000.evil.example" contains control characters']);
  });

  describe('wildcards', () => {
    it('refuses a wildcard unless allowed', () => {
      expect(reasonsFor('DNS:*.mayfly.test')).toEqual(["DNS name '*.mayfly.test' is a wildcard, which this RA does not allow"]);
    });

    it('passes a wildcard inside the domains when allowed', () => {
      expect(reasonsFor('DNS:*.mayfly.test', withWildcards)).toEqual([]);
    });

    it('refuses an allowed wildcard outside the domains', () => {
      expect(reasonsFor('DNS:*.evil.example', withWildcards)).toEqual(["DNS name '*.evil.example' is outside the allowed domains [.mayfly.test]"]);
    });

    it('refuses a misplaced wildcard even when wildcards are allowed', () => {
      expect(reasonsFor('DNS:a.*.mayfly.test', withWildcards)).toEqual(["DNS name: name 'a.*.mayfly.test' has a wildcard that is not the whole leftmost label"]);
    });
  });

  describe('IP addresses', () => {
    it('refuses an IPv4 address', () => {
      expect(reasonsFor('DNS:svc.mayfly.test,IP:10.0.0.1')).toEqual([`IP address 10.0.0.1 is not allowed ${IP_ONLY}`]);
    });

    it('refuses an IPv6 address, in canonical form', () => {
      expect(reasonsFor('IP:2001:0DB8:0:0:0:0:0:1')).toEqual([`IP address 2001:db8::1 is not allowed ${IP_ONLY}`]);
    });

    it('refuses an IPv4-mapped IPv6 address, named as its IPv4 address', () => {
      expect(reasonsFor('IP:::ffff:127.0.0.1')).toEqual([`IP address 127.0.0.1 is not allowed ${IP_ONLY}`]);
    });

    it('refuses an IP address written as a dNSName', () => {
      expect(reasonsFor('DNS:10.0.0.1')).toEqual([`IP address 10.0.0.1 is not allowed ${IP_ONLY}`]);
    });
  });

  describe('other name kinds', () => {
    it('refuses an e-mail address', () => {
      expect(reasonsFor('DNS:svc.mayfly.test,email:ops@mayfly.test')).toEqual(['subjectAltName of kind rfc822Name is not supported']);
    });

    it('refuses a URI', () => {
      expect(reasonsFor('URI:https://svc.mayfly.test/')).toEqual(['subjectAltName of kind uniformResourceIdentifier is not supported']);
    });
  });

  it('gives every reason at once, DNS names first, then IPs, then other kinds', () => {
    expect(reasonsFor('email:ops@mayfly.test,IP:10.0.0.1,DNS:evil.example,DNS:*.mayfly.test')).toEqual([
      `DNS name 'evil.example' is outside the allowed domains ${DOMAINS}`,
      "DNS name '*.mayfly.test' is a wildcard, which this RA does not allow",
      `IP address 10.0.0.1 is not allowed ${IP_ONLY}`,
      'subjectAltName of kind rfc822Name is not supported',
    ]);
  });

  it('checks the names the certificate would carry, not the CSR’s own', () => {
    const request = requestFor({ extensions: ['subjectAltName=DNS:evil.example'] });
    expect(alternativeNames.check({ ...request, names: { dnsNames: ['svc.mayfly.test'], ipAddresses: [] } }, options)).toEqual([]);
    expect(alternativeNames.check({ ...request, names: { dnsNames: ['svc.mayfly.test', 'other.example'], ipAddresses: [] } }, options)).toEqual([
      `DNS name 'other.example' is outside the allowed domains ${DOMAINS}`,
    ]);
  });

  describe('options', () => {
    it('defaults to nothing allowed', () => {
      expect(alternativeNames.options.parse({})).toEqual({ allowed_domains: [], allow_wildcard: false });
    });

    it.each<[string, unknown]>([
      ['a misspelt key', { allowed_domain: ['.mayfly.test'] }],
      ['allowed_networks, which belongs to alternative_names_ip', { allowed_networks: ['10.0.0.0/8'] }],
      ['allowed_domains as a string', { allowed_domains: '.mayfly.test' }],
      ['an empty domain', { allowed_domains: [''] }],
      ['allow_wildcard as a string', { allow_wildcard: 'true' }],
      ['options that are not a map', ['.mayfly.test']],
    ])('refuses %s', (_, value) => {
      expect(alternativeNames.options.safeParse(value).success).toBe(false);
    });

    it('names the unknown key', () => {
      expect(alternativeNames.options.safeParse({ allow_wildcards: true }).error?.issues).toMatchObject([{ code: 'unrecognized_keys', keys: ['allow_wildcards'] }]);
    });
  });
});
