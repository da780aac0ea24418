import { parseCertificationRequest } from '../../../src/csr/parse';
import publicKey from '../../../validators/public_key';
import { makeCsr, type RequesterKeyType } from '../../helpers/openssl';
import { generateKey, makeCsrWithKey, policyRequest, type GenpkeyType } from '../support/csr';

const all = publicKey.options.parse({ allowed_keys: { RSA: 2048, EC: ['P-256', 'P-384'], Ed25519: true } });

const requestWith = (keyType: RequesterKeyType) => policyRequest(parseCertificationRequest(makeCsr({ keyType }).der));
const requestWithKey = (keyType: GenpkeyType) => policyRequest(parseCertificationRequest(makeCsrWithKey({ keyPem: generateKey(keyType) }).der));

describe('public_key', () => {
  it('is named as in YAML', () => {
    expect(publicKey.name).toBe('public_key');
  });

  it.each<RequesterKeyType>(['p256', 'p384', 'rsa2048', 'ed25519'])('passes an allowed %s key', (keyType) => {
    expect(publicKey.check(requestWith(keyType), all)).toEqual([]);
  });

  describe('RSA', () => {
    it('refuses a key below the minimum size', () => {
      expect(publicKey.check(requestWith('rsa1024'), all)).toEqual(['RSA key of 1024 bits is below the minimum of 2048']);
    });

    it('refuses a 2048-bit key when the minimum is 3072', () => {
      expect(publicKey.check(requestWith('rsa2048'), publicKey.options.parse({ allowed_keys: { RSA: 3072 } }))).toEqual(['RSA key of 2048 bits is below the minimum of 3072']);
    });

    it('refuses a public exponent other than 65537', () => {
      expect(publicKey.check(requestWithKey('rsa2048e3'), all)).toEqual(['RSA public exponent 3 is not 65537']);
    });

    it('refuses RSA when only other types are listed, naming the ones allowed', () => {
      expect(publicKey.check(requestWith('rsa2048'), publicKey.options.parse({ allowed_keys: { EC: ['P-256'], Ed25519: true } }))).toEqual(['RSA keys are not allowed (allowed: EC, Ed25519)']);
    });

    it('refuses an RSA-PSS-only key, which is not an RSA key here', () => {
      expect(publicKey.check(requestWithKey('rsaPss2048'), all)).toEqual(['RSA-PSS keys are not allowed (allowed: RSA, EC, Ed25519)']);
    });
  });

  describe('EC', () => {
    it('refuses a curve not listed, naming the listed ones', () => {
      expect(publicKey.check(requestWith('p384'), publicKey.options.parse({ allowed_keys: { EC: ['P-256'] } }))).toEqual(['EC curve P-384 is not allowed (allowed: P-256)']);
    });

    it('refuses a non-NIST curve', () => {
      expect(publicKey.check(requestWithKey('secp256k1'), all)).toEqual(['EC curve secp256k1 is not allowed (allowed: P-256, P-384)']);
    });

    it('passes P-521 when listed', () => {
      expect(publicKey.check(requestWithKey('p521'), publicKey.options.parse({ allowed_keys: { EC: ['P-521'] } }))).toEqual([]);
    });

    it('refuses every curve for an empty list', () => {
      expect(publicKey.check(requestWith('p256'), publicKey.options.parse({ allowed_keys: { EC: [], RSA: 2048 } }))).toEqual(['EC curve P-256 is not allowed (allowed: none)']);
    });

    it('refuses EC when only other types are listed', () => {
      expect(publicKey.check(requestWith('p256'), publicKey.options.parse({ allowed_keys: { RSA: 2048 } }))).toEqual(['EC keys are not allowed (allowed: RSA)']);
    });
  });

  describe('EdDSA', () => {
    it('refuses Ed25519 when set to false, without listing it', () => {
      expect(publicKey.check(requestWith('ed25519'), publicKey.options.parse({ allowed_keys: { RSA: 2048, Ed25519: false } }))).toEqual(['Ed25519 keys are not allowed (allowed: RSA)']);
    });

    it('refuses Ed25519 when not mentioned', () => {
      expect(publicKey.check(requestWith('ed25519'), publicKey.options.parse({ allowed_keys: { EC: ['P-256'] } }))).toEqual(['Ed25519 keys are not allowed (allowed: EC)']);
    });

    it('refuses Ed448, which no option allows', () => {
      expect(publicKey.check(requestWithKey('ed448'), all)).toEqual(['Ed448 keys are not allowed (allowed: RSA, EC, Ed25519)']);
    });
  });

  it('refuses every key when nothing is allowed', () => {
    expect(publicKey.check(requestWith('p256'), publicKey.options.parse({ allowed_keys: {} }))).toEqual(['EC keys are not allowed (allowed: none)']);
  });

  describe('options', () => {
    it.each<[string, unknown]>([
      ['no allowed_keys', {}],
      ['a misspelt top-level key', { allowed_key: { RSA: 2048 } }],
      ['a key type in lower case', { allowed_keys: { rsa: 2048 } }],
      ['an unknown key type', { allowed_keys: { DSA: 2048 } }],
      ['RSA below 2048', { allowed_keys: { RSA: 1024 } }],
      ['RSA as a string', { allowed_keys: { RSA: '2048' } }],
      ['RSA as a fraction', { allowed_keys: { RSA: 2048.5 } }],
      ['RSA as true', { allowed_keys: { RSA: true } }],
      ['an unknown curve', { allowed_keys: { EC: ['P-224'] } }],
      ['a curve in OpenSSL spelling', { allowed_keys: { EC: ['prime256v1'] } }],
      ['EC as a string', { allowed_keys: { EC: 'P-256' } }],
      ['Ed25519 as a string', { allowed_keys: { Ed25519: 'yes' } }],
    ])('refuses %s', (_, value) => {
      expect(publicKey.options.safeParse(value).success).toBe(false);
    });

    it('says why RSA below 2048 is refused', () => {
      expect(publicKey.options.safeParse({ allowed_keys: { RSA: 1024 } }).error?.issues).toMatchObject([{ path: ['allowed_keys', 'RSA'], message: 'RSA below 2048 bits is not safe to allow' }]);
    });
  });
});
