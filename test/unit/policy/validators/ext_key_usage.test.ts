import type { RequesterKeyType } from '../../../helpers/openssl';
import validator from '../../../../validators/ext_key_usage';
import { check, optionIssues, opensslRequest } from '../policy_request';

const refusals = (extKeyUsage: string | undefined, allowed: readonly string[], keyType: RequesterKeyType = 'p256') =>
  check(
    validator,
    { allowed_usage: allowed },
    opensslRequest({ keyType, subject: '/CN=a.example.com', extensions: ['subjectAltName=DNS:a.example.com', ...(extKeyUsage ? [`extendedKeyUsage=${extKeyUsage}`] : [])] }),
  );

describe('ext_key_usage', () => {
  it('passes when every requested purpose is listed', () => {
    expect(refusals('serverAuth,clientAuth', ['serverAuth', 'clientAuth'])).toEqual([]);
  });

  it('passes a request without extKeyUsage', () => {
    expect(refusals(undefined, [])).toEqual([]);
  });

  it('refuses a named purpose that is not listed, by its name', () => {
    expect(refusals('serverAuth,clientAuth,codeSigning', ['serverAuth'])).toEqual([
      'extended key usage clientAuth is not allowed',
      'extended key usage codeSigning is not allowed',
    ]);
  });

  it('reports a custom OID by OID instead of crashing (Anchor crashed)', () => {
    expect(refusals('serverAuth,1.2.3.4', ['serverAuth'])).toEqual(['extended key usage 1.2.3.4 is not allowed']);
    expect(refusals('anyExtendedKeyUsage', ['serverAuth'])).toEqual(['extended key usage 2.5.29.37.0 is not allowed']);
  });

  it('allows a custom OID listed as a dotted OID', () => {
    expect(refusals('serverAuth,1.2.3.4', ['serverAuth', '1.2.3.4'])).toEqual([]);
  });

  it.each<RequesterKeyType>(['p256', 'p384', 'ed25519', 'rsa2048'])('handles a %s key', (keyType) => {
    expect(refusals('serverAuth', ['serverAuth'], keyType)).toEqual([]);
    expect(refusals('serverAuth,clientAuth', ['serverAuth'], keyType)).toEqual(['extended key usage clientAuth is not allowed']);
  });

  it('accepts OpenSSL’s long names in the options', () => {
    expect(
      validator.options.parse({
        allowed_usage: ['TLS Web Server Authentication', 'TLS Web Client Authentication', 'Code Signing', 'E-mail Protection', 'Time Stamping', 'OCSP Signing'],
      }),
    ).toEqual({ allowed_usage: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.3', '1.3.6.1.5.5.7.3.4', '1.3.6.1.5.5.7.3.8', '1.3.6.1.5.5.7.3.9'] });
    expect(refusals('serverAuth,clientAuth', ['TLS Web Server Authentication', 'tls web client authentication'])).toEqual([]);
  });

  describe('options', () => {
    it('refuses an unknown purpose name', () => {
      expect(optionIssues(validator, { allowed_usage: ['serverAuth', 'fooAuth'] })).toEqual([
        'allowed_usage.1: unknown extended key usage "fooAuth"; use a dotted OID for others',
      ]);
    });

    it('requires allowed_usage', () => {
      expect(optionIssues(validator, {})).toEqual(['allowed_usage: Invalid input: expected array, received undefined']);
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { allowed_usage: [], allowed_eku: ['serverAuth'] })).toEqual([': Unrecognized key: "allowed_eku"']);
    });

    it('refuses a wrong type', () => {
      expect(optionIssues(validator, { allowed_usage: 'serverAuth' })).toEqual(['allowed_usage: Invalid input: expected array, received string']);
    });
  });
});
