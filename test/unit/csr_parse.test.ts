import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { CsrParseError } from '../../src/csr/errors';
import { parseCertificationRequest } from '../../src/csr/parse';
import type { CertificationRequest } from '../../src/types';
import { makeCsr, openssl, type OpensslCsr, type RequesterKeyType } from '../helpers/openssl';
import { hex, tlv, toHex } from './support/asn1';
import { buildCsr, csrParts, extension, generateKey, makeCsrWithKey, refusal, withTempDir, type GenpkeyType } from './support/csr';

/** The SubjectPublicKeyInfo of a private key, DER, as openssl writes it. */
const opensslSpki = (keyPem: string): string => openssl(['pkey', '-pubout', '-outform', 'DER'], keyPem).toString('hex');

/** A self-signed certificate, DER, for a key. */
const selfSignedCertificate = (keyPem: string): Buffer =>
  withTempDir((dir) => {
    writeFileSync(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
    return openssl(['req', '-x509', '-new', '-key', join(dir, 'key.pem'), '-subj', '/CN=not a request', '-days', '1', '-outform', 'DER']);
  });

const withByte = (der: Uint8Array, index: number, value: number): Buffer => {
  const copy = Buffer.from(der);
  copy[index] = value;
  return copy;
};

const SAN = '0603551d11';
const KEY_USAGE = '0603551d0f';

describe('parseCertificationRequest: names', () => {
  let parsed: CertificationRequest;
  let csr: OpensslCsr;
  beforeAll(() => {
    csr = makeCsr({
      subject: '/CN=a.mayfly.test/CN=b.mayfly.test/O=Acme Ltd/C=DE',
      extensions: [
        'subjectAltName=DNS:a.mayfly.test,DNS:xn--bcher-kva.mayfly.test,IP:10.0.0.1,IP:2001:0DB8:0:0:0:0:0:1,IP:::ffff:127.0.0.1,email:ops@mayfly.test,URI:https://mayfly.test/p,otherName:1.2.3.4;UTF8:hello',
      ],
    });
    parsed = parseCertificationRequest(csr.der);
  });

  it('keeps the DER it parsed', () => {
    expect(toHex(parsed.der)).toBe(csr.der.toString('hex'));
  });

  it('reads the subject attributes in order, with their OIDs and string types', () => {
    expect(parsed.subjectAttributes).toEqual([
      { type: '2.5.4.3', value: 'a.mayfly.test', tag: 0x0c },
      { type: '2.5.4.3', value: 'b.mayfly.test', tag: 0x0c },
      { type: '2.5.4.10', value: 'Acme Ltd', tag: 0x0c },
      { type: '2.5.4.6', value: 'DE', tag: 0x13 },
    ]);
  });

  it('lists every common name', () => {
    expect(parsed.commonNames).toEqual(['a.mayfly.test', 'b.mayfly.test']);
  });

  it('keeps the subject Name DER unchanged', () => {
    expect(toHex(parsed.subject)).toBe(csrParts(csr.der).subject.toString('hex'));
  });

  it('reads DNS names, A-labels unchanged', () => {
    expect(parsed.dnsNames).toEqual(['a.mayfly.test', 'xn--bcher-kva.mayfly.test']);
  });

  it('reads IPv4, IPv6 and IPv4-mapped IPv6 addresses in ipaddr.js canonical form', () => {
    expect(parsed.ipAddresses).toEqual(['10.0.0.1', '2001:db8::1', '::ffff:7f00:1']);
  });

  it('lists SAN kinds Mayfly does not issue, with their values', () => {
    expect(parsed.unsupportedNames).toEqual([
      { kind: 'rfc822Name', value: 'ops@mayfly.test' },
      { kind: 'uniformResourceIdentifier', value: 'https://mayfly.test/p' },
      { kind: 'otherName', value: '(structured value)' },
    ]);
  });

  it('reads an empty subject as no attributes and an empty Name', () => {
    const request = parseCertificationRequest(makeCsr({ subject: '/', extensions: ['subjectAltName=DNS:svc.mayfly.test'] }).der);
    expect(request.subjectAttributes).toEqual([]);
    expect(request.commonNames).toEqual([]);
    expect(toHex(request.subject)).toBe('3000');
    expect(request.dnsNames).toEqual(['svc.mayfly.test']);
  });

  it('reads no extensions when none were requested', () => {
    const request = parseCertificationRequest(makeCsr({ extensions: [] }).der);
    expect(request.extensions).toEqual([]);
    expect(request.dnsNames).toEqual([]);
    expect(request.ipAddresses).toEqual([]);
    expect(request).not.toHaveProperty('keyUsage');
    expect(request).not.toHaveProperty('extKeyUsage');
    expect(request).not.toHaveProperty('basicConstraints');
  });

  describe('hand-built requests', () => {
    let keyPem: string;
    let spki: Buffer;
    beforeAll(() => {
      keyPem = generateKey('p256');
      spki = csrParts(makeCsrWithKey({ keyPem }).der).spki;
    });

    it('reads a request signed outside openssl as valid (the builder is sound)', () => {
      const request = parseCertificationRequest(buildCsr({ spki, keyPem, extensions: [extension(SAN, tlv(0x30, tlv(0x82, Buffer.from('x.mayfly.test'))))] }));
      expect(request.signatureValid).toBe(true);
      expect(request.dnsNames).toEqual(['x.mayfly.test']);
    });

    it('refuses a second subjectAltName extension, so it cannot hide a name (RFC 5280 4.2)', () => {
      const der = buildCsr({
        spki,
        keyPem,
        extensions: [extension(SAN, tlv(0x30, tlv(0x82, Buffer.from('a.mayfly.test')))), extension(SAN, tlv(0x30, tlv(0x82, Buffer.from('evil.example')), tlv(0x87, hex('0a000001'))))],
      });
      expect(() => parseCertificationRequest(der)).toThrow(new CsrParseError('extension 2.5.29.17 is requested more than once (RFC 5280 4.2)'));
    });

    it('passes a dNSName with a NUL on verbatim, for the validators to refuse', () => {
      const request = parseCertificationRequest(buildCsr({ spki, keyPem, extensions: [extension(SAN, tlv(0x30, tlv(0x82, Buffer.from('a\0.mayfly.test'))))] }));
      expect(request.dnsNames).toEqual(['a\u0000.mayfly.test']);
    });

    it('refuses a dNSName in raw UTF-8', () => {
      const der = buildCsr({ spki, keyPem, extensions: [extension(SAN, tlv(0x30, tlv(0x82, Buffer.from('bücher.mayfly.test', 'utf8'))))] });
      expect(refusal(der)).toBe('a dNSName holds non-ASCII bytes; use the A-label (xn--) form');
    });

    it('refuses an iPAddress of neither 4 nor 16 octets', () => {
      const der = buildCsr({ spki, keyPem, extensions: [extension(SAN, tlv(0x30, tlv(0x87, hex('0a00000100'))))] });
      expect(refusal(der)).toBe('an iPAddress subjectAltName has 5 octets; RFC 5280 4.2.1.6 allows 4 or 16');
    });

    it('refuses a subjectAltName that is not a SEQUENCE', () => {
      const der = buildCsr({ spki, keyPem, extensions: [extension(SAN, tlv(0x31, tlv(0x82, Buffer.from('a.mayfly.test'))))] });
      expect(refusal(der)).toBe('the requested subjectAltName extension is malformed');
    });

    it('refuses a keyUsage that is not a BIT STRING', () => {
      const der = buildCsr({ spki, keyPem, extensions: [extension(KEY_USAGE, hex('020105'), true)] });
      expect(refusal(der)).toBe('the requested keyUsage extension is malformed');
    });

    it('refuses a subject attribute that is not a character string', () => {
      const subject = tlv(0x30, tlv(0x31, tlv(0x30, hex('0603550403'), hex('020105'))));
      expect(refusal(buildCsr({ spki, keyPem, subject }))).toBe('the subject attribute 2.5.4.3 is not a valid character string');
    });

    it('reads a CN written as a BMPString', () => {
      const subject = tlv(0x30, tlv(0x31, tlv(0x30, hex('0603550403'), tlv(0x1e, Buffer.from('svc.mayfly.test', 'utf16le').swap16()))));
      expect(parseCertificationRequest(buildCsr({ spki, keyPem, subject })).commonNames).toEqual(['svc.mayfly.test']);
    });

    it('refuses a version other than v1 (0)', () => {
      expect(refusal(buildCsr({ spki, keyPem, version: 1 }))).toBe('the CSR version is not v1 (0)');
    });

    it('refuses a public key of an unknown type', () => {
      const unknownKey = tlv(0x30, tlv(0x30, hex('06032a0304')), tlv(0x03, hex('00'), Buffer.alloc(32, 7)));
      expect(refusal(buildCsr({ spki: unknownKey }))).toBe("the CSR's public key algorithm 1.2.3.4 is not supported (RSA, RSA-PSS, EC, Ed25519, Ed448)");
    });

    it('refuses an EC public key whose point is not on the curve', () => {
      const offCurve = Buffer.from(spki);
      offCurve[offCurve.length - 1] ^= 1; // the last octet of y
      expect(refusal(buildCsr({ spki: offCurve }))).toBe("the CSR's P-256 public key is not a point on the curve");
    });

    it('refuses an EC public key whose BIT STRING declares unused bits', () => {
      const point = spki.subarray(spki.length - 65);
      const unusedBits = tlv(0x30, spki.subarray(2, 2 + 2 + spki[3]), tlv(0x03, hex('01'), point));
      expect(refusal(buildCsr({ spki: unusedBits }))).toBe("the CSR's public key is of an unknown type or malformed");
    });

    it('refuses a SubjectPublicKeyInfo with anything after the key', () => {
      const padded = tlv(0x30, spki.subarray(2), hex('0500'));
      expect(refusal(buildCsr({ spki: padded, keyPem }))).toBe("the CSR's public key is of an unknown type or malformed");
    });

    it('reads a compressed EC point as the same P-256 key', () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const uncompressed = publicKey.export({ format: 'der', type: 'spki' });
      const point = uncompressed.subarray(uncompressed.length - 65);
      const compressedPoint = Buffer.concat([Buffer.of(0x02 | (point[64] & 1)), point.subarray(1, 33)]);
      const compressed = tlv(0x30, uncompressed.subarray(2, 2 + 2 + uncompressed[3]), tlv(0x03, hex('00'), compressedPoint));
      const request = parseCertificationRequest(buildCsr({ spki: compressed, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }));
      expect(request.publicKey.curve).toBe('P-256');
      expect(request.publicKey.keyObject.export({ format: 'jwk' })).toEqual(publicKey.export({ format: 'jwk' }));
      expect(request.signatureValid).toBe(true);
    });

    it('refuses an empty signatureAlgorithm with a CsrParseError', () => {
      expect(() => parseCertificationRequest(buildCsr({ spki, keyPem, algorithm: tlv(0x30) }))).toThrow(CsrParseError);
    });

    it('reads an unknown signature algorithm as an invalid signature, named by its OID', () => {
      const request = parseCertificationRequest(buildCsr({ spki, keyPem, algorithm: tlv(0x30, hex('06032a0304')) }));
      expect(request.signatureAlgorithm).toEqual({ oid: '1.2.3.4', name: '1.2.3.4', digest: undefined, keys: [], parametersValid: true });
      expect(request.signatureValid).toBe(false);
    });
  });
});

describe('parseCertificationRequest: extensions', () => {
  it('reads keyUsage bit names in RFC 5280 order, all nine', () => {
    const request = parseCertificationRequest(
      makeCsr({ extensions: ['keyUsage=critical,decipherOnly,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyAgreement,keyCertSign,cRLSign,encipherOnly'] }).der,
    );
    expect(request.keyUsage).toEqual(['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly']);
    expect(request.extensions).toEqual([{ oid: '2.5.29.15', critical: true, value: hex('0303 07 ff80') }]);
  });

  it('reads a keyUsage subset, including the ninth bit', () => {
    const request = parseCertificationRequest(makeCsr({ extensions: ['keyUsage=digitalSignature,keyEncipherment,decipherOnly'] }).der);
    expect(request.keyUsage).toEqual(['digitalSignature', 'keyEncipherment', 'decipherOnly']);
    expect(request.extensions[0].critical).toBe(false);
  });

  it('reads extKeyUsage OIDs, a custom OID included', () => {
    const request = parseCertificationRequest(makeCsr({ extensions: ['extendedKeyUsage=serverAuth,clientAuth,1.3.6.1.4.1.99999.1'] }).der);
    expect(request.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.4.1.99999.1']);
  });

  it('reads basicConstraints CA:TRUE with a pathlen', () => {
    const request = parseCertificationRequest(makeCsr({ extensions: ['basicConstraints=critical,CA:TRUE,pathlen:2'] }).der);
    expect(request.basicConstraints).toEqual({ ca: true, pathLength: 2 });
    expect(request.extensions).toEqual([{ oid: '2.5.29.19', critical: true, value: hex('3006 0101ff 020102') }]);
  });

  it('reads basicConstraints CA:FALSE as no CA and no pathlen', () => {
    const request = parseCertificationRequest(makeCsr({ extensions: ['basicConstraints=CA:FALSE'] }).der);
    expect(request.basicConstraints).toEqual({ ca: false });
  });

  it('lists every requested extension with its criticality, in request order', () => {
    const request = parseCertificationRequest(
      makeCsr({ extensions: ['subjectAltName=critical,DNS:a.mayfly.test', '1.2.3.4=critical,ASN1:UTF8String:x', 'extendedKeyUsage=serverAuth'] }).der,
    );
    expect(request.extensions.map((e) => [e.oid, e.critical, toHex(e.value)])).toEqual([
      ['2.5.29.17', true, '300f820d612e6d6179666c792e74657374'],
      ['1.2.3.4', true, '0c0178'],
      ['2.5.29.37', false, '300a06082b06010505070301'],
    ]);
  });
});

describe('parseCertificationRequest: public keys and signatures', () => {
  it.each<[RequesterKeyType, object, string]>([
    ['p256', { type: 'EC', curve: 'P-256', bits: 256 }, 'ecdsa-with-SHA256'],
    ['p384', { type: 'EC', curve: 'P-384', bits: 384 }, 'ecdsa-with-SHA256'],
    ['rsa2048', { type: 'RSA', bits: 2048, exponent: 65537n }, 'sha256WithRSAEncryption'],
    ['ed25519', { type: 'Ed25519' }, 'Ed25519'],
  ])('reads a %s key and verifies its signature', (keyType, key, algorithm) => {
    const csr = makeCsr({ keyType });
    const request = parseCertificationRequest(csr.der);
    const { type, curve, bits, exponent } = request.publicKey;
    expect(Object.fromEntries(Object.entries({ type, curve, bits, exponent }).filter(([, v]) => v !== undefined))).toEqual(key);
    expect(toHex(request.publicKey.spki)).toBe(opensslSpki(csr.keyPem));
    expect(request.publicKey.keyObject.export({ format: 'der', type: 'spki' }).toString('hex')).toBe(opensslSpki(csr.keyPem));
    expect(request.signatureAlgorithm.name).toBe(algorithm);
    expect(request.signatureValid).toBe(true);
  });

  it('verifies an EC CSR without importing its key, and imports it once when a stage asks', () => {
    const csr = makeCsr({ keyType: 'p256' });
    // The module object itself (the compiled imports read their functions from it at each call).
    const imports = jest.spyOn(jest.requireActual<typeof import('node:crypto')>('node:crypto'), 'createPublicKey');
    try {
      const request = parseCertificationRequest(csr.der);
      expect(request.signatureValid).toBe(true);
      expect(imports).not.toHaveBeenCalled();
      const key = request.publicKey.keyObject;
      expect(request.publicKey.keyObject).toBe(key);
      expect(imports).toHaveBeenCalledTimes(1);
      expect(key.export({ format: 'der', type: 'spki' }).toString('hex')).toBe(opensslSpki(csr.keyPem));
      // A byte of the signature's s changed: verified from the SPKI, it fails.
      expect(parseCertificationRequest(withByte(csr.der, csr.der.length - 3, csr.der[csr.der.length - 3] ^ 1)).signatureValid).toBe(false);
    } finally {
      imports.mockRestore();
    }
  });

  it.each<[GenpkeyType, object]>([
    ['rsa2048e3', { type: 'RSA', bits: 2048, exponent: 3n }],
    ['p521', { type: 'EC', curve: 'P-521', bits: 521 }],
    ['secp256k1', { type: 'EC', curve: 'secp256k1', bits: 256 }],
    ['ed448', { type: 'Ed448' }],
    ['rsaPss2048', { type: 'RSA-PSS', bits: 2048, exponent: 65537n }],
  ])('reads a %s key and verifies its signature', (keyType, key) => {
    const keyPem = generateKey(keyType);
    const request = parseCertificationRequest(makeCsrWithKey({ keyPem }).der);
    const { type, curve, bits, exponent } = request.publicKey;
    expect(Object.fromEntries(Object.entries({ type, curve, bits, exponent }).filter(([, v]) => v !== undefined))).toEqual(key);
    expect(toHex(request.publicKey.spki)).toBe(opensslSpki(keyPem));
    expect(request.signatureValid).toBe(true);
  });

  describe('RSASSA-PSS signatures (RFC 4055)', () => {
    let keyPem: string;
    beforeAll(() => {
      keyPem = generateKey('rsa2048');
    });

    it.each([
      ['the default salt length', [], undefined, 'sha256'],
      ['a 20-octet salt', ['rsa_pss_saltlen:20'], undefined, 'sha256'],
      ['a digest-length salt', ['rsa_pss_saltlen:digest'], undefined, 'sha256'],
      ['SHA-384', [], '-sha384', 'sha384'],
      ['SHA-512 and the maximum salt', ['rsa_pss_saltlen:max'], '-sha512', 'sha512'],
    ])('verifies %s', (_, sigopts, digest, hash) => {
      const request = parseCertificationRequest(makeCsrWithKey({ keyPem, sigopts: ['rsa_padding_mode:pss', ...sigopts], ...(digest ? { digest } : {}) }).der);
      expect(request.signatureAlgorithm).toMatchObject({ oid: '1.2.840.113549.1.1.10', name: `RSASSA-PSS (${hash})`, digest: hash });
      expect(request.publicKey.type).toBe('RSA');
      expect(request.signatureValid).toBe(true);
    });

    it('reads a PSS signature whose last octet is changed as invalid', () => {
      const der = makeCsrWithKey({ keyPem, sigopts: ['rsa_padding_mode:pss'] }).der;
      expect(parseCertificationRequest(withByte(der, der.length - 1, der[der.length - 1] ^ 0x01)).signatureValid).toBe(false);
    });
  });

  describe.each<RequesterKeyType>(['p256', 'p384', 'rsa2048', 'ed25519'])('a %s request that was changed after signing', (keyType) => {
    let csr: OpensslCsr;
    beforeAll(() => {
      csr = makeCsr({ keyType });
    });

    it('verifies unchanged', () => {
      expect(parseCertificationRequest(csr.der).signatureValid).toBe(true);
    });

    it('does not verify with one signature octet flipped', () => {
      const last = csr.der.length - 1;
      const request = parseCertificationRequest(withByte(csr.der, last, csr.der[last] ^ 0x01));
      expect(request.signatureValid).toBe(false);
    });

    it('does not verify with one octet of the subject changed', () => {
      const at = csr.der.indexOf('svc.mayfly.test');
      expect(at).toBeGreaterThan(0);
      const request = parseCertificationRequest(withByte(csr.der, at, 't'.charCodeAt(0)));
      expect(request.commonNames).toEqual(['tvc.mayfly.test']);
      expect(request.signatureValid).toBe(false);
    });
  });

  it('does not verify a request carrying another key’s signature', () => {
    const [first, second] = [makeCsr(), makeCsr()];
    const a = csrParts(first.der);
    const b = csrParts(second.der);
    const transplanted = tlv(0x30, a.info, a.algorithm, b.signature);
    expect(parseCertificationRequest(transplanted).signatureValid).toBe(false);
  });
});

describe('parseCertificationRequest: malformed input is a CsrParseError', () => {
  it.each<RequesterKeyType>(['p256', 'rsa2048', 'ed25519'])('refuses every truncation of a real %s request', (keyType) => {
    const { der } = makeCsr({ keyType, extensions: ['subjectAltName=DNS:a.mayfly.test,IP:10.0.0.1', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'] });
    const outcomes = new Set<string>();
    for (let length = 0; length < der.length; length++) outcomes.add(refusal(der.subarray(0, length)));
    expect([...outcomes]).toEqual(['the CSR is not a valid DER PKCS#10 request (truncated)']);
  });

  it('never throws anything but a CsrParseError for a request with one octet changed', () => {
    const { der } = makeCsr({ extensions: ['subjectAltName=DNS:a.mayfly.test,IP:10.0.0.1', 'keyUsage=critical,digitalSignature', 'basicConstraints=CA:FALSE', 'extendedKeyUsage=serverAuth'] });
    const other: string[] = [];
    for (let index = 0; index < der.length; index++) {
      for (const mask of [0x01, 0x20, 0x80, 0xff]) {
        try {
          parseCertificationRequest(withByte(der, index, der[index] ^ mask));
        } catch (error) {
          if (!(error instanceof CsrParseError)) other.push(`octet ${index} ^ ${mask}: ${String(error)}`);
        }
      }
    }
    expect(other).toEqual([]);
  });

  it('refuses trailing bytes after the request', () => {
    expect(refusal(Buffer.concat([makeCsr().der, hex('00')]))).toBe('the CSR is not a valid DER PKCS#10 request (trailing bytes after the DER value)');
  });

  it('refuses a certificate', () => {
    const csr = makeCsr();
    expect(refusal(selfSignedCertificate(csr.keyPem))).toBe('the certificationRequestInfo is malformed');
  });

  it('refuses a SEQUENCE with only two fields', () => {
    const parts = csrParts(makeCsr().der);
    expect(refusal(tlv(0x30, parts.info, parts.algorithm))).toBe('the DER is not a PKCS#10 CertificationRequest');
  });

  it('refuses a request whose outer value is not a SEQUENCE', () => {
    const { der } = makeCsr();
    expect(refusal(withByte(der, 0, 0x31))).toBe('the CSR is not a valid DER PKCS#10 request (CertificationRequest: expected tag 0x30, found 0x31)');
  });
});
