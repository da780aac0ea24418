import validator from '../../../../validators/whitelist_names';
import { buildCsr, check, optionIssues, OIDS, opensslRequest, requestFromCsr, subjectAltNameValue } from '../policy_request';

const ENABLED = { allow_cn_id: true, allow_dns_id: true, allow_ip_id: true };
const OPTIONS = { names: ['%.example.com', 'exact.example.org', '10.0.0.0/8', '2001:db8::/32', '192.168.5.5'], ...ENABLED };

const refusals = (subject: string, san?: string, options: object = OPTIONS) =>
  check(validator, options, opensslRequest({ subject, extensions: san ? [`subjectAltName=${san}`] : [] }));

describe('whitelist_names', () => {
  it('passes a CN, DNS names and IPs that are all listed', () => {
    expect(refusals('/CN=a.example.com', 'DNS:b.example.com,DNS:exact.example.org,IP:10.1.2.3,IP:2001:db8::5,IP:192.168.5.5')).toEqual([]);
  });

  it('refuses a DNS name no pattern matches', () => {
    expect(refusals('/CN=a.example.com', 'DNS:other.example.net')).toEqual(["DNS name 'other.example.net' is not in the whitelist"]);
  });

  it('refuses a common name no pattern matches', () => {
    expect(refusals('/CN=sub.exact.example.org', 'DNS:exact.example.org')).toEqual(["common name 'sub.exact.example.org' is not in the whitelist"]);
  });

  describe('% matches within one label only', () => {
    it('matches a.example.com but not a.b.example.com or example.com', () => {
      expect(refusals('/CN=a.example.com', 'DNS:a.b.example.com,DNS:example.com')).toEqual([
        "DNS name 'a.b.example.com' is not in the whitelist",
        "DNS name 'example.com' is not in the whitelist",
      ]);
    });

    it('matches part of a label: partial-%.example.com', () => {
      const options = { names: ['partial-%.example.com'], ...ENABLED };
      expect(refusals('/CN=partial-web.example.com', 'DNS:partial-db1.example.com', options)).toEqual([]);
      expect(refusals('/CN=partial-web.example.com', 'DNS:other-web.example.com,DNS:partial-a.b.example.com', options)).toEqual([
        "DNS name 'other-web.example.com' is not in the whitelist",
        "DNS name 'partial-a.b.example.com' is not in the whitelist",
      ]);
    });

    it('treats every other character of a pattern literally', () => {
      expect(refusals('/CN=exactxexample.org', undefined, { names: ['exact.example.org'], ...ENABLED })).toEqual(["common name 'exactxexample.org' is not in the whitelist"]);
    });
  });

  describe('identifier kinds are off unless enabled', () => {
    it('refuses every kind by default, even a listed name', () => {
      expect(refusals('/CN=a.example.com', 'DNS:b.example.com,IP:10.0.0.1', { names: OPTIONS.names })).toEqual([
        "common name 'a.example.com' is not allowed: common name identifiers are disabled",
        "DNS name 'b.example.com' is not allowed: DNS name identifiers are disabled",
        "IP address '10.0.0.1' is not allowed: IP address identifiers are disabled",
      ]);
    });

    it('enables each kind on its own', () => {
      const names = OPTIONS.names;
      expect(refusals('/CN=a.example.com', 'DNS:b.example.com,IP:10.0.0.1', { names, allow_cn_id: true })).toEqual([
        "DNS name 'b.example.com' is not allowed: DNS name identifiers are disabled",
        "IP address '10.0.0.1' is not allowed: IP address identifiers are disabled",
      ]);
      expect(refusals('/CN=a.example.com', 'DNS:b.example.com,IP:10.0.0.1', { names, allow_dns_id: true })).toEqual([
        "common name 'a.example.com' is not allowed: common name identifiers are disabled",
        "IP address '10.0.0.1' is not allowed: IP address identifiers are disabled",
      ]);
      expect(refusals('/CN=a.example.com', 'DNS:b.example.com,IP:10.0.0.1', { names, allow_ip_id: true })).toEqual([
        "common name 'a.example.com' is not allowed: common name identifiers are disabled",
        "DNS name 'b.example.com' is not allowed: DNS name identifiers are disabled",
      ]);
    });
  });

  describe('IP addresses', () => {
    it('passes an IP SAN inside a listed CIDR (Anchor refused it)', () => {
      expect(refusals('/CN=a.example.com', 'IP:10.200.3.4')).toEqual([]);
    });

    it('refuses an IP outside every listed network', () => {
      expect(refusals('/CN=a.example.com', 'IP:192.168.5.6,IP:2001:db9::1')).toEqual([
        'IP address 192.168.5.6 is not in the whitelist',
        'IP address 2001:db9::1 is not in the whitelist',
      ]);
    });

    it('passes an IPv6 SAN inside a listed IPv6 network', () => {
      expect(refusals('/CN=a.example.com', 'IP:2001:DB8:0:0::abcd')).toEqual([]);
    });

    it('treats an IPv4-mapped IPv6 address as IPv4', () => {
      expect(refusals('/CN=a.example.com', 'IP:::ffff:10.0.0.1')).toEqual([]);
      expect(refusals('/CN=a.example.com', 'IP:::ffff:172.16.0.1')).toEqual(['IP address 172.16.0.1 is not in the whitelist']);
    });

    it('checks a CN that is an IP against the networks, not the patterns', () => {
      expect(refusals('/CN=10.0.0.5', 'DNS:a.example.com')).toEqual([]);
      expect(refusals('/CN=172.16.0.5', 'DNS:a.example.com')).toEqual(['common name 172.16.0.5 is not in the whitelist']);
    });
  });

  it('compares case-insensitively, in the request and in the patterns (Anchor did not)', () => {
    expect(refusals('/CN=UPPER.EXAMPLE.COM', 'DNS:Mixed.Example.Com')).toEqual([]);
    expect(refusals('/CN=a.example.com', undefined, { names: ['%.EXAMPLE.COM'], ...ENABLED })).toEqual([]);
  });

  it('sees through a trailing dot on a name and on a pattern', () => {
    expect(refusals('/CN=a.example.com.', 'DNS:exact.example.org.')).toEqual([]);
    expect(refusals('/CN=exact.example.org', undefined, { names: ['exact.example.org.'], ...ENABLED })).toEqual([]);
  });

  it('matches an internationalised name by its A-label', () => {
    expect(refusals('/CN=xn--bcher-kva.example.com')).toEqual([]);
  });

  it('refuses a wildcard unless allow_wildcard is set', () => {
    expect(refusals('/CN=a.example.com', 'DNS:*.example.com')).toEqual(["DNS name '*.example.com' is a wildcard, which this RA does not allow"]);
    expect(refusals('/CN=a.example.com', 'DNS:*.example.com', { ...OPTIONS, allow_wildcard: true })).toEqual([]);
    expect(refusals('/CN=a.example.com', 'DNS:*.example.org', { ...OPTIONS, allow_wildcard: true })).toEqual(["DNS name '*.example.org' is not in the whitelist"]);
  });

  it('refuses a wildcard that is not the whole leftmost label', () => {
    expect(refusals('/CN=a.example.com', 'DNS:a.*.example.com', { ...OPTIONS, allow_wildcard: true })).toEqual([
      "DNS name: name 'a.*.example.com' has a wildcard that is not the whole leftmost label",
    ]);
  });

  it('refuses a name with a NUL even though % would match it', () => {
    const der = buildCsr({
      subject: [{ oid: OIDS.commonName, value: 'a.example.com' }],
      extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'evil.com\u0000.example.com' }]) }],
    });
    expect(validator.check(requestFromCsr(der), validator.options.parse(OPTIONS))).toEqual(['DNS name: name "evil.com\\u0000.example.com" contains control characters']);
  });

  describe('options', () => {
    it('requires names and defaults every flag to off', () => {
      expect(optionIssues(validator, {})).toEqual(['names: Invalid input: expected array, received undefined']);
      expect(validator.options.parse({ names: ['a.example.com', '10.0.0.0/8'] })).toMatchObject({
        allow_cn_id: false,
        allow_dns_id: false,
        allow_ip_id: false,
        allow_wildcard: false,
        networks: ['10.0.0.0/8'],
      });
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { names: [], allow_cn: true })).toEqual([': Unrecognized key: "allow_cn"']);
    });

    it('refuses wrong types', () => {
      expect(optionIssues(validator, { names: 'a.example.com', allow_ip_id: 'true' })).toEqual([
        'names: Invalid input: expected array, received string',
        'allow_ip_id: Invalid input: expected boolean, received string',
      ]);
    });
  });
});
