import { accountKey, jws, type AccountKeyType } from '../../helpers/acme_client';
import { importJwk } from '../../../src/acme/jwk';
import { parseJws, verifyJws } from '../../../src/acme/jws';
import { serialHex } from '../../../src/acme/certificates';
import { deniedAddressReason } from '../../../src/acme/validation/address_policy';

const header = { nonce: 'n', url: 'https://ca/acme/default/new-order' };

test.each(['ES256', 'ES384', 'RS256', 'EdDSA'] as AccountKeyType[])('%s signatures verify under their key, and a changed payload does not', (alg) => {
  const key = accountKey(alg);
  const body = JSON.parse(jws(key, { ...header, jwk: key.jwk }, { a: 1 }));
  const parsed = parseJws(body);
  expect(() => verifyJws(parsed, importJwk(key.jwk))).not.toThrow();
  const tampered = parseJws({ ...body, payload: Buffer.from('{"a":2}').toString('base64url') });
  expect(() => verifyJws(tampered, importJwk(key.jwk))).toThrow(expect.objectContaining({ type: 'malformed' }));
});

test('the alg must fit the key, none and MACs are refused, jwk and kid are exclusive, private keys are refused', () => {
  const p256 = accountKey('ES256');
  const asEs384 = parseJws(JSON.parse(jws({ ...p256, alg: 'ES384' }, { ...header, jwk: p256.jwk }, {})));
  expect(() => verifyJws(asEs384, importJwk(p256.jwk))).toThrow(expect.objectContaining({ type: 'badSignatureAlgorithm' }));
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  for (const alg of ['none', 'HS256']) {
    expect(() => parseJws({ protected: encode({ alg, ...header, kid: 'k' }), payload: '', signature: '' })).toThrow(expect.objectContaining({ type: 'badSignatureAlgorithm' }));
  }
  expect(() => parseJws({ protected: encode({ alg: 'ES256', ...header, kid: 'k', jwk: p256.jwk }), payload: '', signature: '' })).toThrow(expect.objectContaining({ type: 'malformed' }));
  expect(() => importJwk(p256.privateKey.export({ format: 'jwk' }))).toThrow(expect.objectContaining({ type: 'badPublicKey' }));
});

test('validation address policy: metadata and link-local always, loopback unless allowed, configured ranges', () => {
  const validation = { httpPort: 80, tlsAlpnPort: 443, timeoutMs: 1000, allowLoopback: false, deniedRanges: ['10.9.0.0/16'] };
  for (const address of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '::ffff:169.254.169.254', '0.0.0.0', '127.0.0.1', '::1', '10.9.1.1']) expect(deniedAddressReason(address, validation)).toBeDefined();
  expect(deniedAddressReason('127.0.0.1', { ...validation, allowLoopback: true })).toBeUndefined();
  expect(deniedAddressReason('169.254.169.254', { ...validation, allowLoopback: true })).toContain('metadata');
  expect(deniedAddressReason('192.0.2.10', validation)).toBeUndefined();
});

test("a revoked certificate is found by its serial even when the serial's first octet is below 0x10", () => {
  // The ledger and the ACME store keep the content octets in hex: 0a1b…, never a1b….
  expect(serialHex('0A1B2C')).toBe('0a1b2c');
  expect(serialHex('A1B2C')).toBe('0a1b2c');
  expect(serialHex('7F00')).toBe('7f00');
});
