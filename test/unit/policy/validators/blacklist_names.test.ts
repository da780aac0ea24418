import validator from '../../../../validators/blacklist_names';
import { buildCsr, check, optionIssues, OIDS, opensslRequest, requestFromCsr, subjectAltNameValue } from '../policy_request';

const OPTIONS = { domains: ['evil.com', '.Secret.Example.COM.'] };

const refusals = (subject: string, san?: string, options: object = OPTIONS) =>
  check(validator, options, opensslRequest({ subject, extensions: san ? [`subjectAltName=${san}`] : [] }));

describe('blacklist_names', () => {
  it('passes names outside every listed domain', () => {
    expect(refusals('/CN=svc.example.com', 'DNS:a.example.com,IP:10.0.0.1')).toEqual([]);
  });

  it('refuses a common name under a listed domain', () => {
    expect(refusals('/CN=www.evil.com', 'DNS:a.example.com')).toEqual(["common name 'www.evil.com' is under the blacklisted domain evil.com"]);
  });

  it('refuses a DNS name equal to a listed domain', () => {
    expect(refusals('/CN=svc.example.com', 'DNS:evil.com')).toEqual(["DNS name 'evil.com' is under the blacklisted domain evil.com"]);
  });

  it('refuses every listed name, naming the domain in its normalised form', () => {
    expect(refusals('/CN=db.secret.example.com', 'DNS:secret.example.com,DNS:a.evil.com')).toEqual([
      "common name 'db.secret.example.com' is under the blacklisted domain secret.example.com",
      "DNS name 'secret.example.com' is under the blacklisted domain secret.example.com",
      "DNS name 'a.evil.com' is under the blacklisted domain evil.com",
    ]);
  });

  it('does not refuse a look-alike that is not under the domain', () => {
    expect(refusals('/CN=notevil.com', 'DNS:evil.com.example.com')).toEqual([]);
  });

  it('compares case-insensitively, in the request and in the options', () => {
    expect(refusals('/CN=svc.example.com', 'DNS:WWW.EVIL.COM')).toEqual(["DNS name 'WWW.EVIL.COM' is under the blacklisted domain evil.com"]);
    expect(refusals('/CN=svc.example.com', 'DNS:x.secret.example.com')).toEqual(["DNS name 'x.secret.example.com' is under the blacklisted domain secret.example.com"]);
  });

  it('sees through a trailing dot', () => {
    expect(refusals('/CN=evil.com.', 'DNS:a.example.com')).toEqual(["common name 'evil.com.' is under the blacklisted domain evil.com"]);
  });

  it('refuses an internationalised name by its A-label, whatever its case', () => {
    expect(refusals('/CN=svc.example.com', 'DNS:shop.XN--BCHER-KVA.example', { domains: ['xn--bcher-kva.example'] })).toEqual([
      "DNS name 'shop.XN--BCHER-KVA.example' is under the blacklisted domain xn--bcher-kva.example",
    ]);
  });

  it('refuses a wildcard under a listed domain', () => {
    expect(refusals('/CN=svc.example.com', 'DNS:*.evil.com')).toEqual(["DNS name '*.evil.com' is under the blacklisted domain evil.com"]);
  });

  it('checks the names to issue (request.names) on the second pass', () => {
    const request = opensslRequest({ subject: '/CN=svc.example.com', extensions: ['subjectAltName=DNS:a.example.com'] });
    expect(validator.check({ ...request, names: { dnsNames: ['a.example.com', 'b.evil.com'], ipAddresses: [] } }, validator.options.parse(OPTIONS))).toEqual([
      "DNS name 'b.evil.com' is under the blacklisted domain evil.com",
    ]);
  });

  // A name with a NUL reads as "www.evil.com" to a client that stops at the NUL. blacklist_names
  // must not pass a name it cannot read: a brake that fails open is no brake.
  it('does not pass a listed name hidden in front of a NUL', () => {
    const der = buildCsr({
      subject: [{ oid: OIDS.commonName, value: 'svc.example.com' }],
      extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'www.evil.com\u0000.example.com' }]) }],
    });
    expect(validator.check(requestFromCsr(der), validator.options.parse(OPTIONS))).toEqual([`DNS name: name ${JSON.stringify('www.evil.com\u0000.example.com')} contains control characters`]);
  });

  it('refuses a wildcard that would cover a listed domain', () => {
    expect(refusals('/CN=svc.example.com', 'DNS:*.example.com')).toEqual(["DNS name '*.example.com' is under the blacklisted domain secret.example.com"]);
  });

  it('passes a wildcard one level too deep to cover the listed domain', () => {
    expect(refusals('/CN=svc.example.com', 'DNS:*.other.example.com')).toEqual([]);
  });

  describe('options', () => {
    it('normalises the listed domains: no leading dot, lower case, no trailing dot', () => {
      expect(validator.options.parse(OPTIONS)).toEqual({ domains: ['evil.com', 'secret.example.com'] });
    });

    it('requires domains', () => {
      expect(optionIssues(validator, {})).toEqual(['domains: Invalid input: expected array, received undefined']);
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { domains: [], domain: ['evil.com'] })).toEqual([': Unrecognized key: "domain"']);
    });

    it('refuses a wrong type', () => {
      expect(optionIssues(validator, { domains: 'evil.com' })).toEqual(['domains: Invalid input: expected array, received string']);
    });

    it('refuses an entry that is not a domain name', () => {
      expect(optionIssues(validator, { domains: ['bad name.com', 'bücher.example', '.'] })).toEqual([
        'domains.0: name "bad name.com" contains characters not allowed in a DNS name',
        'domains.1: name "bücher.example" is not ASCII; send internationalised names as A-labels (xn--)',
        'domains.2: name "" has an empty label',
      ]);
    });
  });
});
