import commonName from '../../../validators/common_name';
import { handBuiltRequest, makeCsrWithKey, generateKey, policyRequest, requestFor, subjectWithCommonName } from '../support/csr';
import { parseCertificationRequest } from '../../../src/csr/parse';

const options = commonName.options.parse({ allowed_domains: ['.mayfly.test'], allowed_networks: ['127.0.0.0/8', '::1/128'] });
const withWildcards = commonName.options.parse({ allowed_domains: ['.mayfly.test'], allow_wildcard: true });

/** The reasons for a request with this -subj and SANs. */
const reasonsFor = (subject: string, extensions: string[] = [], opts = options) => commonName.check(requestFor({ subject, extensions }), opts);

describe('common_name', () => {
  it('is named as in YAML', () => {
    expect(commonName.name).toBe('common_name');
  });

  it('passes a CN inside the allowed domains', () => {
    expect(reasonsFor('/CN=svc.mayfly.test')).toEqual([]);
  });

  it('passes a CN in upper case', () => {
    expect(reasonsFor('/CN=SVC.MAYFLY.TEST')).toEqual([]);
  });

  it('passes a CN with one trailing dot', () => {
    expect(reasonsFor('/CN=svc.mayfly.test.')).toEqual([]);
  });

  it('refuses a CN with two trailing dots', () => {
    expect(reasonsFor('/CN=svc.mayfly.test..')).toEqual(['common name: name "svc.mayfly.test.." has an empty label']);
  });

  it('refuses a CN outside the allowed domains, quoting it as written', () => {
    expect(reasonsFor('/CN=Svc.Evil.Example')).toEqual(["common name 'Svc.Evil.Example' is outside the allowed domains [.mayfly.test]"]);
  });

  it('refuses the allowed domain itself when the entry has a leading dot', () => {
    expect(reasonsFor('/CN=mayfly.test')).toEqual(["common name 'mayfly.test' is outside the allowed domains [.mayfly.test]"]);
  });

  it('refuses a name that only ends with the same letters as the domain', () => {
    expect(reasonsFor('/CN=evilmayfly.test')).toEqual(["common name 'evilmayfly.test' is outside the allowed domains [.mayfly.test]"]);
  });

  it('refuses two common names, whatever they are', () => {
    expect(reasonsFor('/CN=a.mayfly.test/CN=b.mayfly.test')).toEqual(['the subject has 2 common names; at most one is allowed']);
  });

  it('refuses a request with neither a CN nor a subjectAltName', () => {
    expect(reasonsFor('/O=Acme')).toEqual(['the request has neither a common name nor a subjectAltName']);
  });

  it('passes a request without a CN that has a subjectAltName', () => {
    expect(reasonsFor('/O=Acme', ['subjectAltName=DNS:svc.mayfly.test'])).toEqual([]);
    expect(reasonsFor('/', ['subjectAltName=IP:127.0.0.1'])).toEqual([]);
  });

  it('counts the names the certificate would carry, not the CSR’s own, when there is no CN', () => {
    const request = requestFor({ subject: '/O=Acme', extensions: ['subjectAltName=DNS:svc.mayfly.test'] });
    expect(commonName.check({ ...request, names: { dnsNames: [], ipAddresses: [] } }, options)).toEqual(['the request has neither a common name nor a subjectAltName']);
  });

  describe('IDN', () => {
    it('passes an A-label', () => {
      expect(reasonsFor('/CN=xn--bcher-kva.mayfly.test')).toEqual([]);
    });

    it('refuses a raw UTF-8 name', () => {
      const request = policyRequest(parseCertificationRequest(makeCsrWithKey({ keyPem: generateKey('p256'), subject: '/CN=bücher.mayfly.test', utf8: true }).der));
      expect(request.csr.commonNames).toEqual(['bücher.mayfly.test']);
      expect(commonName.check(request, options)).toEqual(['common name: name "bücher.mayfly.test" is not ASCII; send internationalised names as A-labels (xn--)']);
    });
  });

  describe('wildcards', () => {
    it('refuses a wildcard CN unless allowed', () => {
      expect(reasonsFor('/CN=*.mayfly.test')).toEqual(["common name '*.mayfly.test' is a wildcard, which this RA does not allow"]);
    });

    it('passes a wildcard CN inside the domains when allowed', () => {
      expect(reasonsFor('/CN=*.mayfly.test', [], withWildcards)).toEqual([]);
    });

    it('refuses an allowed wildcard outside the domains', () => {
      expect(reasonsFor('/CN=*.evil.example', [], withWildcards)).toEqual(["common name '*.evil.example' is outside the allowed domains [.mayfly.test]"]);
    });

    it('refuses a wildcard that is not the whole leftmost label, even when wildcards are allowed', () => {
      expect(reasonsFor('/CN=a.*.mayfly.test', [], withWildcards)).toEqual(["common name: name 'a.*.mayfly.test' has a wildcard that is not the whole leftmost label"]);
      expect(reasonsFor('/CN=svc*.mayfly.test', [], withWildcards)).toEqual(["common name: name 'svc*.mayfly.test' has a wildcard that is not the whole leftmost label"]);
    });
  });

  describe('IP addresses', () => {
    it('passes an IPv4 CN inside the allowed networks', () => {
      expect(reasonsFor('/CN=127.0.0.1')).toEqual([]);
    });

    it('refuses an IPv4 CN outside the allowed networks', () => {
      expect(reasonsFor('/CN=10.0.0.1')).toEqual(['common name IP 10.0.0.1 is outside the allowed networks [127.0.0.0/8, ::1/128]']);
    });

    it('passes an IPv6 CN inside the allowed networks', () => {
      expect(reasonsFor('/CN=::1')).toEqual([]);
    });

    it('refuses an IPv6 CN outside the allowed networks, in canonical form', () => {
      expect(reasonsFor('/CN=2001:0DB8::0001')).toEqual(['common name IP 2001:db8::1 is outside the allowed networks [127.0.0.0/8, ::1/128]']);
    });

    it('reads an IPv4-mapped IPv6 CN as its IPv4 address', () => {
      expect(reasonsFor('/CN=::ffff:127.0.0.1')).toEqual([]);
      expect(reasonsFor('/CN=::ffff:10.0.0.1')).toEqual(['common name IP 10.0.0.1 is outside the allowed networks [127.0.0.0/8, ::1/128]']);
    });

    it('refuses an IP CN when no networks are allowed', () => {
      expect(reasonsFor('/CN=127.0.0.1', [], commonName.options.parse({ allowed_domains: ['.mayfly.test'] }))).toEqual(['common name IP 127.0.0.1 is outside the allowed networks []']);
    });

    it('does not read "127.1" as an IP', () => {
      expect(reasonsFor('/CN=127.1')).toEqual(["common name '127.1' is outside the allowed domains [.mayfly.test]"]);
    });

    it('does not read the IPv4-compatible address ::127.0.0.1 (::7f00:1) as 127.0.0.1', () => {
      expect(reasonsFor('/CN=::127.0.0.1')).toHaveLength(1);
    });

    it('does not read a hex IPv4 form inside IPv6 as an IP inside the networks', () => {
      expect(reasonsFor('/CN=::ffff:0x7f.0.0.1')).toEqual(['common name: name "::ffff:0x7f.0.0.1" contains characters not allowed in a DNS name']);
    });
  });

  it('refuses a CN with a NUL, naming the control character', () => {
    const request = handBuiltRequest({ subject: subjectWithCommonName('svc.mayfly.test\u0000.evil.example') });
    expect(request.csr.signatureValid).toBe(true);
    expect(commonName.check(request, options)).toEqual(['common name: name "svc.mayfly.test\\u0000.evil.example" contains control characters']);
  });

  describe('options', () => {
    it('defaults to nothing allowed', () => {
      expect(commonName.options.parse({})).toEqual({ allowed_domains: [], allowed_networks: [], allow_wildcard: false });
    });

    it.each<[string, unknown]>([
      ['a misspelt key', { allowed_domain: ['.mayfly.test'] }],
      ['a key of another validator', { allowed_keys: {} }],
      ['allowed_domains as a string', { allowed_domains: '.mayfly.test' }],
      ['an empty domain', { allowed_domains: [''] }],
      ['a domain that is a number', { allowed_domains: [5] }],
      ['allow_wildcard as a string', { allow_wildcard: 'yes' }],
      ['a network that is not one', { allowed_networks: ['mayfly.test'] }],
      ['a prefix too long', { allowed_networks: ['10.0.0.0/33'] }],
      ['allowed_networks as a string', { allowed_networks: '10.0.0.0/8' }],
    ])('refuses %s', (_, value) => {
      expect(commonName.options.safeParse(value).success).toBe(false);
    });

    it('names the unknown key', () => {
      const result = commonName.options.safeParse({ allowed_domain: ['.mayfly.test'] });
      expect(result.error?.issues).toMatchObject([{ code: 'unrecognized_keys', keys: ['allowed_domain'] }]);
    });

    it('says why a network is refused', () => {
      const result = commonName.options.safeParse({ allowed_networks: ['10.0.0.0/8', 'mayfly.test'] });
      expect(result.error?.issues).toMatchObject([{ path: ['allowed_networks', 1], message: 'not an IP address or network in CIDR form' }]);
    });

    it('refuses a short IPv4 network such as "10.1/16", which ipaddr.js reads as 10.0.0.0/16', () => {
      expect(commonName.options.safeParse({ allowed_networks: ['10.1/16'] }).success).toBe(false);
    });
  });
});
