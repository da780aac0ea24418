import validator from '../../../../validators/extensions';
import { check, optionIssues, opensslRequest } from '../policy_request';

const ALL_FOUR = [
  'subjectAltName=DNS:a.example.com',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=serverAuth',
  'basicConstraints=critical,CA:FALSE',
];

const refusals = (extensions: readonly string[], allowed: readonly string[]) =>
  check(validator, { allowed_extensions: allowed }, opensslRequest({ subject: '/CN=a.example.com', extensions }));

describe('extensions', () => {
  it('passes when every requested extension is listed', () => {
    expect(refusals(ALL_FOUR, ['subjectAltName', 'keyUsage', 'extKeyUsage', 'basicConstraints'])).toEqual([]);
  });

  it('accepts extKeyUsage by its RFC 5280 name and by OpenSSL’s extendedKeyUsage', () => {
    expect(refusals(['extendedKeyUsage=clientAuth'], ['extKeyUsage'])).toEqual([]);
    expect(refusals(['extendedKeyUsage=clientAuth'], ['extendedKeyUsage'])).toEqual([]);
    expect(validator.options.parse({ allowed_extensions: ['extKeyUsage', 'extendedKeyUsage'] })).toEqual({ allowed_extensions: ['2.5.29.37', '2.5.29.37'] });
  });

  it('refuses each extension that is not listed, by name', () => {
    expect(refusals(ALL_FOUR, ['subjectAltName'])).toEqual([
      'extension keyUsage is not allowed',
      'extension extKeyUsage is not allowed',
      'extension basicConstraints is not allowed',
    ]);
  });

  it('refuses an unnamed extension by OID, and allows it when listed by OID', () => {
    const extensions = ['subjectAltName=DNS:a.example.com', '1.2.3.4=ASN1:UTF8String:hello'];
    expect(refusals(extensions, ['subjectAltName'])).toEqual(['extension 1.2.3.4 is not allowed']);
    expect(refusals(extensions, ['subjectAltName', '1.2.3.4'])).toEqual([]);
  });

  it('names an unlisted extension Mayfly knows by its name, not its OID', () => {
    expect(refusals(['subjectAltName=DNS:a.example.com', 'subjectKeyIdentifier=hash'], ['subjectAltName'])).toEqual(['extension subjectKeyIdentifier is not allowed']);
  });

  it('passes a request with no extensions whatever is listed', () => {
    expect(refusals([], [])).toEqual([]);
  });

  it('refuses any extension when nothing is listed', () => {
    expect(refusals(['subjectAltName=DNS:a.example.com'], [])).toEqual(['extension subjectAltName is not allowed']);
  });

  it('reads names written by hand: case, spaces, hyphens and underscores do not matter', () => {
    expect(validator.options.parse({ allowed_extensions: ['Subject Alt Name', 'key_usage', 'BASICCONSTRAINTS', 'extended-key-usage'] })).toEqual({
      allowed_extensions: ['2.5.29.17', '2.5.29.15', '2.5.29.19', '2.5.29.37'],
    });
  });

  describe('options', () => {
    it('refuses an unknown extension name', () => {
      expect(optionIssues(validator, { allowed_extensions: ['subjectAltName', 'fooBar'] })).toEqual([
        'allowed_extensions.1: unknown extension name "fooBar"; use a dotted OID for others',
      ]);
    });

    it('requires allowed_extensions', () => {
      expect(optionIssues(validator, {})).toEqual(['allowed_extensions: Invalid input: expected array, received undefined']);
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { allowed_extension: ['keyUsage'] })).toEqual([
        'allowed_extensions: Invalid input: expected array, received undefined',
        ': Unrecognized key: "allowed_extension"',
      ]);
    });

    it('refuses a wrong type', () => {
      expect(optionIssues(validator, { allowed_extensions: 'keyUsage' })).toEqual(['allowed_extensions: Invalid input: expected array, received string']);
      expect(optionIssues(validator, { allowed_extensions: [17] })).toEqual(['allowed_extensions.0: Invalid input: expected string, received number']);
    });
  });
});
