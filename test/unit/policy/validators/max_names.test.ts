import validator from '../../../../validators/max_names';
import { asIssued, buildCsr, check, OIDS, opensslRequest, optionIssues, requestFromCsr, subjectAltNameValue } from '../policy_request';

const refusals = (subject: string, san: string, max: number) => check(validator, { max }, asIssued(opensslRequest({ subject, extensions: [`subjectAltName=${san}`] })));

describe('max_names', () => {
  it('passes up to max names', () => {
    expect(refusals('/CN=a.example.com', 'DNS:b.example.com,IP:10.0.0.1', 3)).toEqual([]);
  });

  it('refuses more than max names, counting the CN, DNS and IP names', () => {
    expect(refusals('/CN=a.example.com', 'DNS:b.example.com,IP:10.0.0.1,IP:2001:db8::1', 3)).toEqual(['the request has 4 names; at most 3 are allowed']);
  });

  it('counts a CN repeated in the subjectAltName once', () => {
    expect(refusals('/CN=a.example.com', 'DNS:a.example.com', 1)).toEqual([]);
    expect(refusals('/CN=A.EXAMPLE.COM', 'DNS:a.example.com.', 1)).toEqual([]);
    expect(refusals('/CN=10.0.0.1', 'DNS:10.0.0.1', 1)).toEqual([]);
  });

  it('counts every subjectAltName the request lists, repeats and other spellings of one name included', () => {
    expect(refusals('/CN=A.EXAMPLE.COM', 'DNS:a.example.com.,DNS:A.Example.Com', 1)).toEqual(['the request has 2 names; at most 1 is allowed']);
    expect(refusals('/CN=10.0.0.1', 'IP:10.0.0.1,IP:::ffff:10.0.0.1,DNS:10.0.0.1', 2)).toEqual(['the request has 3 names; at most 2 are allowed']);
  });

  it('refuses 200 copies of one name when max is 10', () => {
    expect(refusals('/CN=a.example.com', Array(200).fill('DNS:a.example.com').join(','), 10)).toEqual(['the request has 200 names; at most 10 are allowed']);
  });

  it('counts an IPv6 address in every spelling once', () => {
    expect(refusals('/CN=2001:DB8:0:0::1', 'IP:2001:db8::1', 1)).toEqual([]);
  });

  it('counts a wildcard and an A-label as names of their own', () => {
    expect(refusals('/CN=a.example.com', 'DNS:*.example.com,DNS:xn--bcher-kva.example.com', 2)).toEqual(['the request has 3 names; at most 2 are allowed']);
  });

  it('counts a name with a NUL apart from the name it imitates', () => {
    const der = buildCsr({
      subject: [{ oid: OIDS.commonName, value: 'a.example.com' }],
      extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'a.example.com\u0000' }]) }],
    });
    expect(check(validator, { max: 1 }, asIssued(requestFromCsr(der)))).toEqual(['the request has 2 names; at most 1 is allowed']);
  });

  it('counts the names to issue (request.names) on the second pass', () => {
    const request = opensslRequest({ subject: '/CN=a.example.com', extensions: ['subjectAltName=DNS:a.example.com'] });
    expect(validator.check({ ...request, names: { dnsNames: ['a.example.com'], ipAddresses: ['10.0.0.9'] } }, validator.options.parse({ max: 1 }))).toEqual([
      'the request has 2 names; at most 1 is allowed',
    ]);
  });

  describe('options', () => {
    it('requires max', () => {
      expect(optionIssues(validator, {})).toEqual(['max: Invalid input: expected number, received undefined']);
    });

    it('refuses a max below 1, a fraction, and a string', () => {
      expect(optionIssues(validator, { max: 0 })).toEqual(['max: Too small: expected number to be >=1']);
      expect(optionIssues(validator, { max: 1.5 })).toEqual(['max: Invalid input: expected int, received number']);
      expect(optionIssues(validator, { max: '3' })).toEqual(['max: Invalid input: expected number, received string']);
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { max: 3, maximum: 3 })).toEqual([': Unrecognized key: "maximum"']);
    });
  });
});
