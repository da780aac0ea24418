import { createHash, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificationRequest } from '../../src/csr/parse';
import { createCaHierarchy, type CaKeyType } from '../../src/issuance/ca_bootstrap';
import { issueCertificate, type IssuanceRequest } from '../../src/issuance/certificate';
import type { CertificateProfile } from '../../src/issuance/profile';
import { CertificateLintError } from '../../src/issuance/lint';
import { newSerialNumber } from '../../src/issuance/serial';
import { LocalSigner } from '../../src/signers/local';
import { SignerUnavailableError } from '../../src/signers/signer';
import { loadSigningCa } from '../../src/signers/signing_ca';
import type { IssuanceNames, IssuedCertificate } from '../../src/types';
import { makeCsr, openssl, opensslText, opensslVerify, type CsrOptions } from '../helpers/openssl';
import { certificateFields, childrenOf, tlvAt, toHex } from './support/asn1';
import { createTestSigningCa, type TestSigningCa } from './support/ca';

const HOUR = 3_600_000;
const ORGANIZATION = '2.5.4.10';
const PROFILE: CertificateProfile = { validityMs: 24 * HOUR, backdateMs: 5 * 60_000, extKeyUsage: ['serverAuth', 'clientAuth'], subjectAttributes: [ORGANIZATION], allowUnderscores: false };

const pemOf = (der: Uint8Array): string => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

function issuanceRequest(options: CsrOptions = {}, names?: IssuanceNames): IssuanceRequest {
  const csr = parseCertificationRequest(makeCsr(options).der);
  return { subject: csr.subjectAttributes, publicKey: csr.publicKey, names: names ?? { dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses } };
}

/** RFC 5280 4.2.1.2 (1): SHA-1 of the subjectPublicKey BIT STRING value, computed here from the SPKI. */
function keyIdOf(spki: Uint8Array): string {
  const bitString = childrenOf(spki, tlvAt(spki, 0))[1];
  return createHash('sha1').update(spki.subarray(bitString.contentStart + 1, bitString.end)).digest('hex');
}

describe('issueCertificate under a P-256 issuing CA', () => {
  let ca: TestSigningCa;
  beforeAll(async () => {
    ca = await createTestSigningCa('p256');
  });
  afterAll(() => ca.remove());

  const issue = (request: IssuanceRequest, profile: CertificateProfile = PROFILE, now?: Date) => issueCertificate(request, profile, ca.signingCa, now);

  describe('a request with a subject, DNS and IP names', () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 789);
    let request: IssuanceRequest;
    let issued: IssuedCertificate;
    let certificate: X509Certificate;
    let text: string;
    let pem: string;
    beforeAll(async () => {
      request = issuanceRequest({ subject: '/CN=svc.mayfly.test/O=Acme', extensions: ['subjectAltName=DNS:svc.mayfly.test,DNS:alt.mayfly.test,IP:10.0.0.1,IP:2001:db8::1'] });
      issued = await issue(request, PROFILE, now);
      pem = pemOf(issued.der);
      certificate = new X509Certificate(pem);
      text = opensslText(pem);
    });

    it('verifies with openssl against the root and the chain', () => {
      expect(opensslVerify(pem, ca.rootFile, ca.chainFile)).toMatchObject({ ok: true });
    });

    it('is issued and signed by the issuing CA', () => {
      const issuing = new X509Certificate(ca.hierarchy.intermediate.certificate);
      expect(certificate.issuer).toBe('CN=Mayfly Unit Issuing CA');
      expect(certificate.checkIssued(issuing)).toBe(true);
      expect(certificate.verify(issuing.publicKey)).toBe(true);
    });

    it('is version 3 (INTEGER 2 in [0])', () => {
      expect(certificateFields(issued.der).version.toString('hex')).toBe('a003020102');
      expect(text).toContain('Version: 3 (0x2)');
    });

    it('encodes the subject afresh from the checked attributes, one RDN each, as UTF8Strings', () => {
      const utf8 = (text: string) => `0c${text.length.toString(16).padStart(2, '0')}${Buffer.from(text).toString('hex')}`;
      const rdn = (oid: string, text: string) => {
        const attribute = `30${((oid.length + utf8(text).length) / 2).toString(16).padStart(2, '0')}${oid}${utf8(text)}`;
        return `31${(attribute.length / 2).toString(16).padStart(2, '0')}${attribute}`;
      };
      const rdns = rdn('0603550403', 'svc.mayfly.test') + rdn('060355040a', 'Acme');
      expect(certificateFields(issued.der).subject.toString('hex')).toBe(`30${(rdns.length / 2).toString(16)}${rdns}`);
      expect(certificate.subject).toBe('CN=svc.mayfly.test\nO=Acme');
    });

    it('uses the issuing certificate’s subject as issuer, byte for byte', () => {
      const issuing = new X509Certificate(ca.hierarchy.intermediate.certificate);
      expect(certificateFields(issued.der).issuer.toString('hex')).toBe(certificateFields(issuing.raw).subject.toString('hex'));
    });

    it('carries the requester’s public key', () => {
      expect(certificateFields(issued.der).spki.toString('hex')).toBe(toHex(request.publicKey.spki));
      expect(certificate.publicKey.export({ format: 'der', type: 'spki' }).toString('hex')).toBe(toHex(request.publicKey.spki));
    });

    it('names ecdsa-with-SHA256 without parameters, in the TBS and outside it (RFC 5758 3.2)', () => {
      const fields = certificateFields(issued.der);
      expect(fields.signature.toString('hex')).toBe('300a06082a8648ce3d040302');
      expect(fields.outerSignatureAlgorithm.toString('hex')).toBe('300a06082a8648ce3d040302');
      expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    });

    it('is valid from the second of issue minus the backdate, but not before the issuing CA, for the profile’s validity', () => {
      const issuedAt = Math.floor(now.getTime() / 1000) * 1000;
      // createTestSigningCa's issuing CA starts a minute before it was made: the backdate stops there.
      expect(issued.notBefore.getTime()).toBe(Math.max(issuedAt - 5 * 60_000, ca.signingCa.notBefore.getTime()));
      expect(issued.notBefore.getTime()).toBe(Date.parse(new X509Certificate(ca.hierarchy.intermediate.certificate).validFrom));
      expect(issued.notAfter.getTime()).toBe(issuedAt + 24 * HOUR);
      expect(Date.parse(certificate.validFrom)).toBe(issued.notBefore.getTime());
      expect(Date.parse(certificate.validTo)).toBe(issued.notAfter.getTime());
    });

    it('writes the validity as UTCTime', () => {
      const fields = certificateFields(issued.der);
      const digits = (date: Date) => date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
      expect(fields.notBefore.toString('latin1')).toBe(`\x17\x0d${digits(issued.notBefore)}`);
      expect(fields.notAfter.toString('latin1')).toBe(`\x17\x0d${digits(issued.notAfter)}`);
    });

    it('has a positive 16-octet serial, reported as lowercase hex', () => {
      const { serial } = certificateFields(issued.der);
      expect(serial.length).toBe(16);
      expect(serial[0]).toBeGreaterThanOrEqual(0x01);
      expect(serial[0]).toBeLessThanOrEqual(0x7f);
      expect(issued.serialNumber).toBe(serial.toString('hex'));
      expect(issued.serialNumber).toMatch(/^[0-9a-f]{32}$/);
      expect(certificate.serialNumber).toBe(issued.serialNumber.toUpperCase());
    });

    it('has exactly these extensions, in this order', () => {
      expect(certificateFields(issued.der).extensions.map((e) => [e.oid, e.critical])).toEqual([
        ['2.5.29.19', true],
        ['2.5.29.15', true],
        ['2.5.29.37', false],
        ['2.5.29.14', false],
        ['2.5.29.35', false],
        ['2.5.29.17', false],
      ]);
    });

    it('says CA:FALSE as an empty, critical basicConstraints (RFC 5280 4.2.1.9)', () => {
      expect(certificateFields(issued.der).extensions[0]).toEqual({ oid: '2.5.29.19', critical: true, value: '3000' });
      expect(certificate.ca).toBe(false);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    });

    it('allows digitalSignature only for an EC key, critical', () => {
      expect(certificateFields(issued.der).extensions[1]).toEqual({ oid: '2.5.29.15', critical: true, value: '03020780' });
      expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    });

    it('lists the profile’s key purposes', () => {
      expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
      expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
    });

    it('identifies the subject key by the SHA-1 of its subjectPublicKey', () => {
      expect(certificateFields(issued.der).extensions[3].value).toBe('0414' + keyIdOf(request.publicKey.spki));
    });

    it('identifies the authority key by the issuing certificate’s subjectKeyIdentifier', () => {
      const issuing = certificateFields(new X509Certificate(ca.hierarchy.intermediate.certificate).raw);
      const ski = issuing.extensions.find((e) => e.oid === '2.5.29.14');
      expect(ski?.value).toMatch(/^0414[0-9a-f]{40}$/);
      expect(certificateFields(issued.der).extensions[4].value).toBe('30168014' + ski?.value.slice(4));
    });

    it('carries the DNS and IP names in a non-critical subjectAltName', () => {
      expect(certificate.subjectAltName).toBe('DNS:svc.mayfly.test, DNS:alt.mayfly.test, IP Address:10.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1');
      expect(text).toMatch(/X509v3 Subject Alternative Name: \n/);
    });
  });

  it('allows digitalSignature and keyEncipherment for an RSA key', async () => {
    const issued = await issue(issuanceRequest({ keyType: 'rsa2048' }));
    expect(certificateFields(issued.der).extensions[1]).toEqual({ oid: '2.5.29.15', critical: true, value: '030205a0' });
    expect(opensslText(pemOf(issued.der))).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
  });

  it('allows digitalSignature only for an Ed25519 key, and openssl verifies the certificate', async () => {
    const issued = await issue(issuanceRequest({ keyType: 'ed25519' }));
    expect(certificateFields(issued.der).extensions[1].value).toBe('03020780');
    expect(opensslVerify(pemOf(issued.der), ca.rootFile, ca.chainFile)).toMatchObject({ ok: true });
  });

  it('uses the profile’s keyUsage when it has one', async () => {
    const issued = await issue(issuanceRequest({ keyType: 'rsa2048' }), { ...PROFILE, keyUsage: ['digitalSignature', 'keyAgreement'] });
    expect(certificateFields(issued.der).extensions[1].value).toBe('03020388');
    expect(opensslText(pemOf(issued.der))).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Agreement\n/);
  });

  it('writes key purposes given by name or by OID', async () => {
    const issued = await issue(issuanceRequest(), { ...PROFILE, extKeyUsage: ['clientAuth', '1.3.6.1.4.1.99999.1'] });
    expect(new X509Certificate(pemOf(issued.der)).keyUsage).toEqual(['1.3.6.1.5.5.7.3.2', '1.3.6.1.4.1.99999.1']);
  });

  it('leaves extKeyUsage out when the profile has none', async () => {
    const issued = await issue(issuanceRequest(), { ...PROFILE, extKeyUsage: [] });
    expect(certificateFields(issued.der).extensions.map((e) => e.oid)).toEqual(['2.5.29.19', '2.5.29.15', '2.5.29.14', '2.5.29.35', '2.5.29.17']);
  });

  it('marks the subjectAltName critical when the subject is empty (RFC 5280 4.2.1.6)', async () => {
    const issued = await issue(issuanceRequest({ subject: '/', extensions: ['subjectAltName=DNS:svc.mayfly.test'] }));
    const fields = certificateFields(issued.der);
    expect(fields.subject.toString('hex')).toBe('3000');
    expect(fields.extensions.find((e) => e.oid === '2.5.29.17')).toEqual({ oid: '2.5.29.17', critical: true, value: '3011820f7376632e6d6179666c792e74657374' });
    expect(opensslText(pemOf(issued.der))).toMatch(/X509v3 Subject Alternative Name: critical\n\s+DNS:svc\.mayfly\.test\n/);
    expect(opensslVerify(pemOf(issued.der), ca.rootFile, ca.chainFile)).toMatchObject({ ok: true });
  });

  it('refuses an empty subject without names, which RFC 5280 4.1.2.6 forbids', async () => {
    await expect(issue(issuanceRequest({ subject: '/', extensions: [] }))).rejects.toThrow(CertificateLintError);
  });

  it('refuses to sign a leaf without a subjectAltName, or whose CN is not among them (lint)', async () => {
    const sign = jest.spyOn(ca.signingCa.signer, 'sign');
    await expect(issue(issuanceRequest({ extensions: [] }))).rejects.toThrow(
      "the certificate would break the profile, so nothing was signed: the common name 'svc.mayfly.test' is not among the subjectAltNames; the subjectAltName would be empty; subjectAltName is missing",
    );
    expect(sign).not.toHaveBeenCalled();
    sign.mockRestore();
  });

  it('issues the names it is given, not the CSR’s own', async () => {
    const issued = await issue(issuanceRequest({ extensions: ['subjectAltName=DNS:evil.example'] }, { dnsNames: ['svc.mayfly.test'], ipAddresses: ['127.0.0.1'] }));
    expect(new X509Certificate(pemOf(issued.der)).subjectAltName).toBe('DNS:svc.mayfly.test, IP Address:127.0.0.1');
  });

  it('writes IPv6 and IPv4-mapped IPv6 addresses as 16 octets, as the request had them', async () => {
    const csr = parseCertificationRequest(makeCsr({ extensions: ['subjectAltName=IP:2001:db8::1,IP:::ffff:127.0.0.1,IP:10.0.0.1'] }).der);
    const issued = await issue({ subject: [], publicKey: csr.publicKey, names: { dnsNames: [], ipAddresses: csr.ipAddresses } });
    const san = certificateFields(issued.der).extensions.find((e) => e.oid === '2.5.29.17');
    expect(san?.value).toBe('302a' + '871020010db8000000000000000000000001' + '871000000000000000000000ffff7f000001' + '87040a000001');
  });

  it('ends with the issuing CA when the profile would outlive it', async () => {
    const issued = await issue(issuanceRequest(), { ...PROFILE, validityMs: 2 * 365 * 24 * HOUR });
    expect(issued.notAfter.getTime()).toBe(ca.signingCa.notAfter.getTime());
    expect(new X509Certificate(pemOf(issued.der)).validTo).toBe(new X509Certificate(ca.hierarchy.intermediate.certificate).validTo);
  });

  it('gives every certificate a fresh serial of the same shape', async () => {
    const request = issuanceRequest();
    const serials = await Promise.all(Array.from({ length: 32 }, async () => (await issue(request)).serialNumber));
    expect(new Set(serials).size).toBe(32);
    // First octet 0x01..0x7f: positive without a padding octet, and always 16 octets long.
    for (const serial of serials) expect(serial).toMatch(/^(0[1-9a-f]|[1-7][0-9a-f])[0-9a-f]{30}$/);
  });

  it('orders serials by issuing time, so the ledger\'s serial index grows at its end; 80 random bits follow the time', async () => {
    const request = issuanceRequest();
    const start = Date.now();
    // Each a millisecond after the last, issued in reverse: the order comes from the time alone.
    const times = Array.from({ length: 24 }, (_, i) => start + i);
    const latestFirst = await Promise.all([...times].reverse().map((time) => issue(request, PROFILE, new Date(time))));
    const serials = latestFirst.map((issued) => issued.serialNumber).reverse();
    expect(serials).toEqual([...serials].sort());
    expect(serials.map((serial) => parseInt(serial.slice(0, 12), 16))).toEqual(times);
    // In one millisecond, only the random part tells them apart: 10 octets of it, different each time.
    const same = await Promise.all(Array.from({ length: 16 }, () => issue(request, PROFILE, new Date(start))));
    expect(new Set(same.map((issued) => issued.serialNumber.slice(0, 12))).size).toBe(1);
    expect(new Set(same.map((issued) => issued.serialNumber.slice(12))).size).toBe(16);
    for (const { serialNumber } of same) expect(serialNumber.slice(12)).toHaveLength(20);
  });

  it('writes the time across its six octets, and refuses a clock outside the years it fits (first octet 0x01..0x7f)', () => {
    const timeOf = (now: number) => Buffer.from(newSerialNumber(now)).toString('hex').slice(0, 12);
    expect(timeOf(2 ** 40)).toBe('010000000000');
    expect(timeOf(2 ** 40 + 2 ** 32 - 1)).toBe('0100ffffffff');
    expect(timeOf(2 ** 40 + 2 ** 32)).toBe('010100000000');
    expect(timeOf(2 ** 47 - 1)).toBe('7fffffffffff');
    for (const now of [2 ** 40 - 1, 2 ** 47, -1, 1.5e12 + 0.5, Number.NaN]) expect(() => newSerialNumber(now)).toThrow(RangeError);
  });
});

describe('issueCertificate across 2050 (RFC 5280 4.1.2.5)', () => {
  let ca: TestSigningCa;
  beforeAll(async () => {
    ca = await createTestSigningCa('p256', new Date('2049-12-01T00:00:00Z'));
  });
  afterAll(() => ca.remove());

  it('writes notBefore in 2049 as UTCTime and notAfter in 2050 as GeneralizedTime', async () => {
    const issued = await issueCertificate(issuanceRequest(), { ...PROFILE, validityMs: 2 * HOUR }, ca.signingCa, new Date('2049-12-31T23:30:00.250Z'));
    const fields = certificateFields(issued.der);
    expect(fields.notBefore.toString('latin1')).toBe('\x17\x0d491231232500Z');
    expect(fields.notAfter.toString('latin1')).toBe('\x18\x0f20500101013000Z');
    expect(opensslText(pemOf(issued.der))).toMatch(/Not Before: Dec 31 23:25:00 2049 GMT\n\s+Not After : Jan  1 01:30:00 2050 GMT/);
    const verified = openssl(['verify', '-attime', String(Date.parse('2050-01-01T00:00:00Z') / 1000), '-CAfile', ca.rootFile, '-untrusted', ca.chainFile], pemOf(issued.der)).toString();
    expect(verified.trim()).toBe('stdin: OK');
  });
});

describe('an issuing CA outside its validity', () => {
  let ca: TestSigningCa;
  beforeAll(async () => {
    ca = await createTestSigningCa('p256');
  });
  afterAll(() => ca.remove());

  it('is refused at start-up, naming the date', async () => {
    // createCaHierarchy gives the issuing CA one year: made two years ago, it ended a year ago.
    const old = await createCaHierarchy('p256', 'Mayfly Unit', new Date(Date.now() - 2 * 365 * 24 * HOUR));
    writeFileSync(join(ca.dir, 'old.key'), old.intermediate.privateKey, { mode: 0o600 });
    writeFileSync(join(ca.dir, 'old.pem'), old.intermediate.certificate + old.root.certificate);
    await expect(loadSigningCa('old', join(ca.dir, 'old.pem'), () => LocalSigner.load({ keyFile: join(ca.dir, 'old.key') }))).rejects.toThrow(
      /^the issuing certificate in .*old\.pem expired on \d{4}-\d\d-\d\dT.*; rotate it$/,
    );
  });

  it('refuses to issue once it expires while serving, rather than issue a certificate whose notAfter is before its notBefore', async () => {
    const expired = { ...ca.signingCa, notAfter: new Date(Date.now() - 60_000) };
    await expect(issueCertificate(issuanceRequest(), PROFILE, expired)).rejects.toThrow(SignerUnavailableError);
  });

  it('refuses to issue before it becomes valid (a 503 to retry, not a lint 500 or a leaf dated in the future)', async () => {
    const early = { ...ca.signingCa, notBefore: new Date(Date.now() + HOUR) };
    await expect(issueCertificate(issuanceRequest(), PROFILE, early)).rejects.toThrow(
      new SignerUnavailableError(`the issuing CA certificate is not valid until ${early.notBefore.toISOString()}; nothing was signed`),
    );
    const later = { ...ca.signingCa, notBefore: new Date(Date.now() + 48 * HOUR) };
    await expect(issueCertificate(issuanceRequest(), PROFILE, later)).rejects.toThrow(SignerUnavailableError);
  });
});

describe.each<[CaKeyType, string, string]>([
  ['p384', '300a06082a8648ce3d040303', 'ecdsa-with-SHA384'],
  ['rsa2048', '300d06092a864886f70d01010b0500', 'sha256WithRSAEncryption'],
  ['ed25519', '300506032b6570', 'ED25519'],
])('issueCertificate under a %s issuing CA', (type, algorithmIdentifier, algorithmName) => {
  let ca: TestSigningCa;
  beforeAll(async () => {
    ca = await createTestSigningCa(type);
  });
  afterAll(() => ca.remove());

  it('signs with the CA key’s algorithm, and openssl verifies the certificate', async () => {
    const issued = await issueCertificate(issuanceRequest(), PROFILE, ca.signingCa);
    const fields = certificateFields(issued.der);
    expect(fields.signature.toString('hex')).toBe(algorithmIdentifier);
    expect(fields.outerSignatureAlgorithm.toString('hex')).toBe(algorithmIdentifier);
    expect(opensslText(pemOf(issued.der))).toContain(`Signature Algorithm: ${algorithmName}`);
    expect(opensslVerify(pemOf(issued.der), ca.rootFile, ca.chainFile)).toMatchObject({ ok: true });
  });
});

// Keep the helpers honest: the splitter must see the TBS as 8 fields (v3 with extensions).
it('the test’s certificate splitter reads a certificate openssl made', () => {
  const der = openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=x', '-days', '1', '-addext', 'subjectAltName=DNS:x', '-outform', 'DER']);
  const fields = certificateFields(der);
  expect(fields.tbsFieldCount).toBe(8);
  expect(fields.version.toString('hex')).toBe('a003020102');
  expect(fields.extensions.map((e) => e.oid)).toContain('2.5.29.17');
});
