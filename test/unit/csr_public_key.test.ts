// The csr stage's checks of the requester's public key (src/csr/public_key.ts): keys that abort
// OpenSSL, keys whose self-signature anyone can forge, and the one canonical SPKI of every key.
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { parseCertificationRequest } from '../../src/csr/parse';
import {
  ALGORITHM,
  certificationRequest,
  CURVES,
  ecSpki,
  ed25519IdentityRequest,
  exponentOneRequest,
  pointForms,
  requestInfo,
  rsaModulus,
  rsaSpki,
  signedRequest,
  type CurveName,
} from '../helpers/public_keys';
import { hex, tlv } from './support/asn1';
import { refusal } from './support/csr';

/** A request for `spki`, signed by a throwaway key: the key checks come before the signature. */
const unsigned = (spki: Uint8Array): Buffer => certificationRequest(requestInfo(spki), ALGORITHM.ecdsaWithSha256, Buffer.alloc(8));

const NODE_CURVE: Record<CurveName, string> = { 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521', secp256k1: 'secp256k1' };

describe('EC public keys', () => {
  it.each(Object.keys(CURVES) as CurveName[])('refuses the point at infinity on %s (it aborted the process)', (curve) => {
    expect(refusal(unsigned(ecSpki(curve, hex('00'))))).toBe(`the CSR's ${curve} public key is the point at infinity (RFC 5480 2.2)`);
  });

  it.each(Object.keys(CURVES) as CurveName[])('refuses a hybrid point on %s, even correctly signed', (curve) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: NODE_CURVE[curve] });
    expect(refusal(signedRequest(ecSpki(curve, pointForms(publicKey).hybrid), privateKey))).toBe(
      `the CSR's ${curve} public key uses the hybrid point form, which RFC 5480 2.2 does not allow`,
    );
  });

  it.each(Object.keys(CURVES) as CurveName[])('reads a compressed point on %s as the canonical uncompressed SPKI', (curve) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: NODE_CURVE[curve] });
    const request = parseCertificationRequest(signedRequest(ecSpki(curve, pointForms(publicKey).compressed), privateKey));
    expect(Buffer.from(request.publicKey.spki)).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
    expect(request.publicKey).toMatchObject({ type: 'EC', curve });
    expect(request.signatureValid).toBe(true);
  });

  it('keeps an uncompressed SPKI as sent, without a copy', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = signedRequest(publicKey.export({ format: 'der', type: 'spki' }), privateKey);
    const { spki } = parseCertificationRequest(der).publicKey;
    expect(spki.buffer).toBe(der.buffer);
    expect(Buffer.from(spki)).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
  });

  it.each([
    ['an empty point', hex(''), "the CSR's P-256 public key is empty"],
    ['infinity with trailing octets', Buffer.alloc(65), "the CSR's P-256 public key is the point at infinity (RFC 5480 2.2)"],
    ['an unknown form', Buffer.concat([hex('05'), Buffer.alloc(64, 1)]), "the CSR's P-256 public key has unknown point form 0x05"],
    ['an uncompressed point one octet short', Buffer.concat([hex('04'), Buffer.alloc(63, 1)]), "the CSR's P-256 public key point is 64 octets; its form takes 65"],
    ['a compressed point one octet long', Buffer.concat([hex('02'), Buffer.alloc(33, 1)]), "the CSR's P-256 public key point is 34 octets; its form takes 33"],
    ['x = p', Buffer.concat([hex('04ffffffff00000001000000000000000000000000ffffffffffffffffffffffff'), Buffer.alloc(32)]), "the CSR's P-256 public key has an x coordinate outside the field (SEC 1 2.3.4)"],
    ['x = 1 compressed (no point has it)', Buffer.concat([hex('02'), Buffer.alloc(31), hex('01')]), "the CSR's P-256 public key is not a point on the curve"],
  ])('refuses %s', (_, point, reason) => {
    expect(refusal(unsigned(ecSpki('P-256', point)))).toBe(reason);
  });

  it('refuses a P-521 point whose coordinates are written as x + p and y + p (the same point mod p)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' });
    const { uncompressed } = pointForms(publicKey);
    const p = 2n ** 521n - 1n;
    const plusP = (octets: Buffer) => Buffer.from((BigInt(`0x${octets.toString('hex')}`) + p).toString(16).padStart(132, '0'), 'hex');
    const xPlusP = Buffer.concat([hex('04'), plusP(uncompressed.subarray(1, 67)), uncompressed.subarray(67)]);
    const yPlusP = Buffer.concat([uncompressed.subarray(0, 67), plusP(uncompressed.subarray(67))]);
    expect(refusal(signedRequest(ecSpki('P-521', xPlusP), privateKey))).toBe("the CSR's P-521 public key has an x coordinate outside the field (SEC 1 2.3.4)");
    expect(refusal(signedRequest(ecSpki('P-521', yPlusP), privateKey))).toBe("the CSR's P-521 public key has a y coordinate outside the field (SEC 1 2.3.4)");
  });

  it('refuses a point off the curve, a P-256 point labelled secp256k1, and a point labelled with the wrong size of curve', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { uncompressed } = pointForms(publicKey);
    const offCurve = Buffer.from(uncompressed);
    offCurve[64] ^= 1;
    expect(refusal(unsigned(ecSpki('P-256', offCurve)))).toBe("the CSR's P-256 public key is not a point on the curve");
    expect(refusal(unsigned(ecSpki('secp256k1', uncompressed)))).toBe("the CSR's secp256k1 public key is not a point on the curve");
    expect(refusal(unsigned(ecSpki('P-384', uncompressed)))).toBe("the CSR's P-384 public key point is 65 octets; its form takes 97");
  });

  it.each([
    ['no parameters', tlv(0x30, hex('06072a8648ce3d0201')), "the CSR's EC public key does not name its curve (RFC 5480 2.1.1)"],
    ['implicitCurve (NULL)', tlv(0x30, hex('06072a8648ce3d0201'), hex('0500')), "the CSR's EC public key does not name its curve (RFC 5480 2.1.1)"],
    ['specifiedCurve', tlv(0x30, hex('06072a8648ce3d0201'), tlv(0x30, hex('020101'))), "the CSR's EC public key does not name its curve (RFC 5480 2.1.1)"],
    ['brainpoolP256r1', tlv(0x30, hex('06072a8648ce3d0201'), hex('06092b2403030208010107')), "the CSR's EC public key is on curve 1.3.36.3.3.2.8.1.1.7, which Mayfly does not support (P-256, P-384, P-521, secp256k1)"],
  ])('refuses an EC key with %s', (_, algorithm, reason) => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(refusal(unsigned(tlv(0x30, algorithm, tlv(0x03, hex('00'), pointForms(publicKey).uncompressed))))).toBe(reason);
  });
});

describe('RSA public keys', () => {
  let modulus: bigint;
  beforeAll(() => {
    modulus = rsaModulus(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
  });

  it('refuses e = 1, whose "signature" is the padded digest and verifies without any private key', () => {
    const forged = exponentOneRequest(modulus);
    // The forgery is real: Node verifies it under the key it claims.
    const spki = rsaSpki(modulus, 1n);
    const info = requestInfo(spki);
    expect(verify('sha256', info, createPublicKey({ key: spki, format: 'der', type: 'spki' }), forged.subarray(forged.length - 256))).toBe(true);
    expect(refusal(forged)).toBe("the CSR's RSA public exponent 1 is not an odd number from 3 to 2^256 - 1 (CA/B Forum BR 6.1.6)");
  });

  it.each([
    ['even', 65538n, "the CSR's RSA public exponent 65538 is not an odd number from 3 to 2^256 - 1 (CA/B Forum BR 6.1.6)"],
    ['2^256 + 1', 2n ** 256n + 1n, "the CSR's RSA public exponent of more than 256 bits is not an odd number from 3 to 2^256 - 1 (CA/B Forum BR 6.1.6)"],
    ['0', 0n, "the CSR's RSA public exponent 0 is not an odd number from 3 to 2^256 - 1 (CA/B Forum BR 6.1.6)"],
  ])('refuses an exponent that is %s', (_, exponent, reason) => {
    expect(refusal(unsigned(rsaSpki(modulus, exponent)))).toBe(reason);
  });

  it('refuses an exponent of a kilobyte before building a number of it', () => {
    expect(refusal(unsigned(rsaSpki(modulus, 2n ** 8000n + 1n)))).toBe(
      "the CSR's RSA public key has a public exponent of more than 256 bits; Mayfly reads moduli of 1024 to 16384 bits and exponents to 2^256 - 1",
    );
  });

  it.each([['3', 3n], ['2^256 - 1', 2n ** 256n - 1n]])('reads e = %s (whether the RA wants it is the public_key validator\'s call)', (_, exponent) => {
    expect(parseCertificationRequest(unsigned(rsaSpki(modulus, exponent))).publicKey).toMatchObject({ type: 'RSA', bits: 2048, exponent });
  });

  it.each([
    ['an even modulus', () => modulus + 1n, "the CSR's RSA modulus has a small factor, so it is no RSA key"],
    ['a modulus with the factor 3', () => modulus * 3n, "the CSR's RSA modulus has a small factor, so it is no RSA key"],
    ['a 512-bit modulus', () => rsaModulus(generateKeyPairSync('rsa', { modulusLength: 512 }).publicKey), "the CSR's RSA public key has a modulus of 512 bits; Mayfly reads moduli of 1024 to 16384 bits and exponents to 2^256 - 1"],
    ['a 16392-bit modulus', () => 2n ** 16391n + 1n, "the CSR's RSA public key has a modulus of more than 16384 bits; Mayfly reads moduli of 1024 to 16384 bits and exponents to 2^256 - 1"],
    ['a 100,000-bit modulus', () => 2n ** 100_000n + 1n, "the CSR's RSA public key has a modulus of more than 16384 bits; Mayfly reads moduli of 1024 to 16384 bits and exponents to 2^256 - 1"],
  ])('refuses %s', (_, makeModulus, reason) => {
    expect(refusal(unsigned(rsaSpki(makeModulus(), 65537n)))).toBe(reason);
  });

  it('refuses rsaEncryption without its NULL parameters (RFC 3279 2.3.1) and an RSAPublicKey with a third field', () => {
    const key = tlv(0x30, tlv(0x02, hex('00'), Buffer.alloc(256, 0xab)), hex('0203010001'));
    expect(refusal(unsigned(tlv(0x30, tlv(0x30, hex('06092a864886f70d010101')), tlv(0x03, hex('00'), key))))).toBe("the parameters of the CSR's rsaEncryption public key are malformed");
    const three = tlv(0x30, tlv(0x02, hex('00'), Buffer.alloc(256, 0xab)), hex('0203010001'), hex('020101'));
    expect(refusal(unsigned(tlv(0x30, tlv(0x30, hex('06092a864886f70d010101'), hex('0500')), tlv(0x03, hex('00'), three))))).toBe("the CSR's RSA public key is not a DER RSAPublicKey (RFC 8017 A.1.1)");
  });
});

describe('Edwards and other keys', () => {
  it('refuses the Ed25519 identity point, under which R = identity, S = 0 verifies for any message', () => {
    expect(refusal(ed25519IdentityRequest())).toBe("the CSR's Ed25519 public key is a point of small order, which proves possession of nothing");
  });

  const ed25519 = (key: Buffer) => tlv(0x30, tlv(0x30, hex('06032b6570')), tlv(0x03, hex('00'), key));
  it.each([
    ['y = p - 1 (order 2)', Buffer.concat([hex('ec'), Buffer.alloc(30, 0xff), hex('7f')]), 'a point of small order, which proves possession of nothing'],
    ['y = 0 with the sign bit (order 4)', Buffer.concat([Buffer.alloc(31), hex('80')]), 'a point of small order, which proves possession of nothing'],
    ['an order-8 point', hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'), 'a point of small order, which proves possession of nothing'],
    ['y = p (not canonical)', Buffer.concat([hex('ed'), Buffer.alloc(30, 0xff), hex('7f')]), 'not a canonical point encoding (RFC 8032 5.1.3)'],
    ['31 octets', Buffer.alloc(31, 9), '31 octets; RFC 8410 gives 32'],
  ])('refuses an Ed25519 key of %s', (_, key, reason) => {
    expect(refusal(unsigned(ed25519(key)))).toBe(`the CSR's Ed25519 public key is ${reason}`);
  });

  it('refuses Ed25519 parameters, and an Ed448 key whose sign octet has other bits', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
    expect(refusal(unsigned(tlv(0x30, tlv(0x30, hex('06032b6570'), hex('0500')), tlv(0x03, hex('00'), raw))))).toBe("the CSR's Ed25519 public key has parameters; RFC 8410 3 says they are absent");
    const ed448 = generateKeyPairSync('ed448').publicKey.export({ format: 'der', type: 'spki' });
    const signOctet = Buffer.from(ed448);
    signOctet[signOctet.length - 1] |= 0x01;
    expect(refusal(unsigned(signOctet))).toBe("the CSR's Ed448 public key is not a canonical point encoding (RFC 8032 5.2.3)");
  });

  it.each([
    ['X25519', () => generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' })],
    ['X448', () => generateKeyPairSync('x448').publicKey.export({ format: 'der', type: 'spki' })],
    ['DSA', () => generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).publicKey.export({ format: 'der', type: 'spki' })],
  ])('refuses a %s key by name: it cannot sign the request', (name, spki) => {
    expect(refusal(unsigned(spki()))).toBe(`the CSR's public key algorithm ${name} is not supported (RSA, RSA-PSS, EC, Ed25519, Ed448)`);
  });
});
