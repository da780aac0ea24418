import validator from '../../../../validators/standards_compliance';
import {
  asIssued,
  basicConstraintsValue,
  buildCsr,
  check,
  OIDS,
  opensslCsrWith,
  opensslRequest,
  optionIssues,
  requestFromCsr,
  subjectAltNameValue,
} from '../policy_request';

const LABEL_RE = '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$';
const RSA_2048 = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
const EC_P256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

const refusals = (subject: string, extensions: readonly string[], options: object = {}) => check(validator, options, opensslRequest({ subject, extensions }));
const sanRefusals = (dnsNames: string, options: object = {}) => refusals('/CN=svc.example.com', [`subjectAltName=${dnsNames}`], options);

describe('standards_compliance', () => {
  it('passes a request that follows the RFCs', () => {
    expect(refusals('/CN=a.example.com', ['subjectAltName=DNS:a.example.com,DNS:*.example.com,IP:10.0.0.1', 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature'])).toEqual([]);
  });

  describe('extensions', () => {
    it('never sees an extension requested twice: the parser refuses the request first', () => {
      const der = buildCsr({
        subject: [{ oid: OIDS.commonName, value: 'a.example.com' }],
        extensions: [
          { oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'a.example.com' }]) },
          { oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'b.example.com' }]) },
        ],
      });
      expect(() => requestFromCsr(der)).toThrow('extension 2.5.29.17 is requested more than once (RFC 5280 4.2)');
    });

    it('refuses a non-critical subjectAltName when the subject is empty', () => {
      expect(refusals('/', ['subjectAltName=DNS:a.example.com'])).toEqual(['the subject is empty, so subjectAltName must be critical (RFC 5280 4.2.1.6)']);
    });

    it('passes a critical subjectAltName with an empty subject, and a non-critical one with a subject', () => {
      expect(refusals('/', ['subjectAltName=critical,DNS:a.example.com'])).toEqual([]);
      expect(refusals('/OU=ops', ['subjectAltName=DNS:a.example.com'])).toEqual([]);
    });

    it('refuses a basicConstraints that is not critical', () => {
      expect(refusals('/CN=a.example.com', ['subjectAltName=DNS:a.example.com', 'basicConstraints=CA:FALSE'])).toEqual(['basicConstraints must be critical (RFC 5280 4.2.1.9)']);
    });

    it('refuses a non-critical basicConstraints in a CSR built here, too', () => {
      const der = buildCsr({ extensions: [{ oid: OIDS.basicConstraints, value: basicConstraintsValue(false) }] });
      expect(check(validator, {}, requestFromCsr(der))).toEqual(['basicConstraints must be critical (RFC 5280 4.2.1.9)']);
    });
  });

  describe('signature algorithm', () => {
    it('refuses a CSR signed with SHA-1 and RSA', () => {
      const request = requestFromCsr(opensslCsrWith(RSA_2048, ['-sha1']));
      expect(request.csr.signatureValid).toBe(true);
      expect(check(validator, {}, request)).toEqual(['the CSR is signed with sha1WithRSAEncryption; SHA-1 is not collision resistant']);
    });

    it('refuses a CSR signed with MD5 and RSA', () => {
      const request = requestFromCsr(opensslCsrWith(RSA_2048, ['-md5']));
      expect(request.csr.signatureValid).toBe(true);
      expect(check(validator, {}, request)).toEqual(['the CSR is signed with md5WithRSAEncryption; MD5 is not collision resistant']);
    });

    it('refuses a CSR signed with SHA-1 and ECDSA', () => {
      const request = requestFromCsr(opensslCsrWith(EC_P256, ['-sha1']));
      expect(request.csr.signatureValid).toBe(true);
      expect(check(validator, {}, request)).toEqual(['the CSR is signed with ecdsa-with-SHA1; SHA-1 is not collision resistant']);
    });

    it('passes RSASSA-PSS over SHA-256', () => {
      const request = requestFromCsr(opensslCsrWith(RSA_2048, ['-sha256', '-sigopt', 'rsa_padding_mode:pss']));
      expect(request.csr.signatureAlgorithm.name).toBe('RSASSA-PSS (sha256)');
      expect(request.csr.signatureValid).toBe(true);
      expect(check(validator, {}, request)).toEqual([]);
    });

    // RSASSA-PSS names its hash in the parameters (RFC 4055 3.1; SHA-1 is the default), so the
    // algorithm OID alone does not say whether the signature is collision resistant.
    it('refuses RSASSA-PSS over SHA-1', () => {
      const request = requestFromCsr(opensslCsrWith(RSA_2048, ['-sha1', '-sigopt', 'rsa_padding_mode:pss']));
      expect(request.csr.signatureAlgorithm.name).toBe('RSASSA-PSS (sha1)');
      expect(request.csr.signatureValid).toBe(true);
      expect(check(validator, {}, request)).toEqual([expect.stringContaining('SHA-1 is not collision resistant')]);
    });
  });

  describe('DNS names', () => {
    const label63 = 'a'.repeat(63);

    it('passes a 63-character label and refuses a 64-character one', () => {
      expect(sanRefusals(`DNS:${label63}.example.com`)).toEqual([]);
      expect(sanRefusals(`DNS:${'a'.repeat(64)}.example.com`)).toEqual([`name '${'a'.repeat(64)}.example.com' has a label longer than 63 characters`]);
    });

    it('passes a 253-character name (also with its trailing dot) and refuses a 254-character one', () => {
      const name253 = `${label63}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
      const name254 = `${label63}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`;
      expect(name253).toHaveLength(253);
      expect(name254).toHaveLength(254);
      expect(sanRefusals(`DNS:${name253}`)).toEqual([]);
      expect(sanRefusals(`DNS:${name253}.`)).toEqual([]);
      expect(sanRefusals(`DNS:${name254}`)).toEqual([`name '${name254}' is longer than 253 characters`]);
    });

    it('passes a wildcard as the whole leftmost label only', () => {
      expect(sanRefusals('DNS:*.example.com')).toEqual([]);
      expect(sanRefusals('DNS:a.*.example.com,DNS:w*.example.com,DNS:*.*.example.com')).toEqual([
        "name 'a.*.example.com' has a wildcard that is not the whole leftmost label",
        "name 'w*.example.com' has a wildcard that is not the whole leftmost label",
        "name '*.*.example.com' has a wildcard that is not the whole leftmost label",
      ]);
    });

    it('refuses a label outside label_re', () => {
      expect(sanRefusals('DNS:_srv.example.com,DNS:-lead.example.com,DNS:trail-.example.com')).toEqual([
        `name '_srv.example.com' has label '_srv' outside ${LABEL_RE}`,
        `name '-lead.example.com' has label '-lead' outside ${LABEL_RE}`,
        `name 'trail-.example.com' has label 'trail-' outside ${LABEL_RE}`,
      ]);
    });

    it('uses a configured label_re', () => {
      expect(sanRefusals('DNS:_srv.example.com', { label_re: '^[a-z0-9_]+$' })).toEqual([]);
      expect(sanRefusals('DNS:a-b.example.com', { label_re: '^[a-z0-9_]+$' })).toEqual(["name 'a-b.example.com' has label 'a-b' outside ^[a-z0-9_]+$"]);
    });

    it('checks the common name as well as the subjectAltNames: the runner issues it as one', () => {
      expect(check(validator, {}, asIssued(opensslRequest({ subject: '/CN=_bad.example.com', extensions: ['subjectAltName=DNS:a.example.com'] })))).toEqual([`name '_bad.example.com' has label '_bad' outside ${LABEL_RE}`]);
    });

    it('compares labels in lower case', () => {
      expect(sanRefusals('DNS:UPPER.Example.COM')).toEqual([]);
      expect(sanRefusals('DNS:BAD_.Example.COM')).toEqual([`name 'BAD_.Example.COM' has label 'bad_' outside ${LABEL_RE}`]);
    });

    it('passes a trailing dot and an A-label', () => {
      expect(sanRefusals('DNS:a.example.com.,DNS:xn--bcher-kva.example.com')).toEqual([]);
    });

    it('refuses a raw UTF-8 common name', () => {
      const der = buildCsr({ subject: [{ oid: OIDS.commonName, value: 'bücher.example.com' }] });
      expect(check(validator, {}, asIssued(requestFromCsr(der)))).toEqual(['name "bücher.example.com" is not ASCII; send internationalised names as A-labels (xn--)']);
    });

    it('refuses a NUL in a common name or a dNSName', () => {
      const der = buildCsr({
        subject: [{ oid: OIDS.commonName, value: 'a.example.com\u0000.evil.com' }],
        extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'b.example.com\u0000' }]) }],
      });
      expect(check(validator, {}, asIssued(requestFromCsr(der)))).toEqual([
        'name "a.example.com\\u0000.evil.com" contains control characters',
        'name "b.example.com\\u0000" contains control characters',
      ]);
    });

    it('leaves IP addresses written as names (IPv4 and IPv6) to the IP checks', () => {
      expect(refusals('/CN=2001:db8::1', ['subjectAltName=DNS:10.0.0.2,IP:10.0.0.3'])).toEqual([]);
    });

    it('checks the names to issue (request.names) on the second pass', () => {
      const request = opensslRequest({ subject: '/CN=a.example.com', extensions: ['subjectAltName=DNS:a.example.com'] });
      expect(validator.check({ ...request, names: { dnsNames: ['a.example.com', 'x.*.example.com'], ipAddresses: [] } }, validator.options.parse({}))).toEqual([
        "name 'x.*.example.com' has a wildcard that is not the whole leftmost label",
      ]);
    });
  });

  it('gives every reason, not just the first', () => {
    expect(refusals('/', ['subjectAltName=DNS:_a.example.com', 'basicConstraints=CA:FALSE'])).toEqual([
      'the subject is empty, so subjectAltName must be critical (RFC 5280 4.2.1.6)',
      'basicConstraints must be critical (RFC 5280 4.2.1.9)',
      `name '_a.example.com' has label '_a' outside ${LABEL_RE}`,
    ]);
  });

  describe('options', () => {
    it('defaults label_re to LDH labels', () => {
      expect(validator.options.parse({}).label_re.source).toBe(LABEL_RE);
    });

    it('refuses an invalid regular expression', () => {
      expect(optionIssues(validator, { label_re: '([a-z' })).toEqual(['label_re: not a valid regular expression']);
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { label_regex: '^[a-z]+$' })).toEqual([': Unrecognized key: "label_regex"']);
    });

    it('refuses a wrong type', () => {
      expect(optionIssues(validator, { label_re: 5 })).toEqual(['label_re: Invalid input: expected string, received number']);
    });
  });
});
