import type { RequesterKeyType } from '../../../helpers/openssl';
import validator from '../../../../validators/key_usage';
import { check, optionIssues, opensslRequest } from '../policy_request';

const refusals = (keyUsage: string | undefined, allowed: readonly string[], keyType: RequesterKeyType = 'p256') =>
  check(
    validator,
    { allowed_usage: allowed },
    opensslRequest({ keyType, subject: '/CN=a.example.com', extensions: ['subjectAltName=DNS:a.example.com', ...(keyUsage ? [`keyUsage=${keyUsage}`] : [])] }),
  );

describe('key_usage', () => {
  it('passes when every requested usage is listed', () => {
    expect(refusals('critical,digitalSignature,keyEncipherment', ['digitalSignature', 'keyEncipherment'])).toEqual([]);
  });

  it('passes a request without keyUsage', () => {
    expect(refusals(undefined, [])).toEqual([]);
  });

  it('refuses each usage that is not listed, in bit order', () => {
    expect(refusals('critical,digitalSignature,nonRepudiation,keyAgreement', ['digitalSignature'])).toEqual([
      'key usage nonRepudiation is not allowed',
      'key usage keyAgreement is not allowed',
    ]);
  });

  it('reads usages beyond the first octet (decipherOnly is bit 8)', () => {
    expect(refusals('critical,keyAgreement,decipherOnly', ['keyAgreement'])).toEqual(['key usage decipherOnly is not allowed']);
    expect(refusals('critical,keyAgreement,decipherOnly', ['keyAgreement', 'decipherOnly'])).toEqual([]);
  });

  it.each<[RequesterKeyType, string]>([
    ['p256', 'digitalSignature'],
    ['p384', 'digitalSignature'],
    ['ed25519', 'digitalSignature'],
    ['rsa2048', 'keyEncipherment'],
  ])('handles a %s key', (keyType, usage) => {
    expect(refusals(`critical,${usage}`, [usage], keyType)).toEqual([]);
    expect(refusals(`critical,${usage},dataEncipherment`, [usage], keyType)).toEqual(['key usage dataEncipherment is not allowed']);
  });

  it('accepts OpenSSL’s long names in the options', () => {
    expect(
      validator.options.parse({ allowed_usage: ['Digital Signature', 'Non Repudiation', 'Content Commitment', 'Key Encipherment', 'Certificate Sign', 'CRL Sign', 'key_agreement'] }),
    ).toEqual({ allowed_usage: ['digitalSignature', 'nonRepudiation', 'nonRepudiation', 'keyEncipherment', 'keyCertSign', 'cRLSign', 'keyAgreement'] });
    expect(refusals('critical,digitalSignature,keyEncipherment', ['Digital Signature', 'Key Encipherment'])).toEqual([]);
  });

  describe('options', () => {
    it('refuses an unknown usage', () => {
      expect(optionIssues(validator, { allowed_usage: ['digitalSignature', 'fooUsage'] })).toEqual(['allowed_usage.1: unknown key usage "fooUsage"']);
    });

    it('requires allowed_usage', () => {
      expect(optionIssues(validator, {})).toEqual(['allowed_usage: Invalid input: expected array, received undefined']);
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { allowed_usage: [], allowed_usages: ['digitalSignature'] })).toEqual([': Unrecognized key: "allowed_usages"']);
    });

    it('refuses a wrong type', () => {
      expect(optionIssues(validator, { allowed_usage: 'digitalSignature' })).toEqual(['allowed_usage: Invalid input: expected array, received string']);
    });
  });
});
