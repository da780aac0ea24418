// The issued certificate, field by field, against RFC 5280 and the profile in the config.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr, openssl, type OpensslCsr } from '../helpers/openssl';
import {
  anchorFields,
  children,
  csrSpki,
  csrSubject,
  expectCertificate,
  issueWithForm,
  issuingCertificate,
  keyIdentifierOf,
  replaceConfigLine,
  signUrl,
  viewCertificate,
  type IssuedView,
} from './support';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const OIDS = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  nsComment: '2.16.840.1.113730.1.13',
};

/** Issues through HTTP and records the window of time in which the CA can have issued it. */
async function issueTimed(ca: TestCa, csr: OpensslCsr): Promise<{ issued: IssuedView; earliest: number; latest: number }> {
  // the CA's clock is read in whole seconds (X.509 times have no fractions)
  const earliest = Math.floor(Date.now() / 1000) * 1000;
  const pem = await issueWithForm(ca, csr.pem);
  const latest = Date.now();
  return { issued: viewCertificate(pem), earliest, latest };
}

/**
 * RFC 5280 4.1.2.5 as Mayfly applies it: issued at a whole second in [earliest, latest], valid for
 * `validityMs` from then, backdated by `backdateMs` but never to before the issuing CA's notBefore
 * (`mayfly init` makes a CA that starts a minute before it, so a fresh test CA clamps the backdate).
 */
function expectValidity(ca: TestCa, issued: IssuedView, validityMs: number, backdateMs: number, window?: { earliest: number; latest: number }): void {
  const issuedAt = issued.peculiar.notAfter.getTime() - validityMs;
  if (window) {
    expect(issuedAt).toBeGreaterThanOrEqual(window.earliest);
    expect(issuedAt).toBeLessThanOrEqual(window.latest);
  }
  expect(issued.peculiar.notBefore.getTime()).toBe(Math.max(issuedAt - backdateMs, issuingCertificate(ca).peculiar.notBefore.getTime()));
}

function extension(issued: IssuedView, oid: string): x509.Extension {
  const found = issued.peculiar.extensions.filter((e) => e.type === oid);
  expect(found).toHaveLength(1);
  return found[0];
}

const hex = (buffer: ArrayBuffer): string => Buffer.from(buffer).toString('hex');

describe('the issued certificate (default profile, P-256 CA)', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa();
  });
  afterAll(() => ca.stop());

  it('is X.509 v3 with a positive 16-octet serial, different on every issuance', async () => {
    const first = viewCertificate(await issueWithForm(ca, makeCsr().pem));
    const second = viewCertificate(await issueWithForm(ca, makeCsr().pem));
    for (const issued of [first, second]) {
      // [0] EXPLICIT INTEGER 2
      expect(issued.parts.version.encoded.toString('hex')).toBe('a003020102');
      expect(issued.text).toContain('Version: 3 (0x2)');
      expect(issued.parts.serial.tag).toBe(0x02);
      const serial = issued.parts.serial.content;
      // RFC 5280 4.1.2.2: positive, at most 20 octets, minimally encoded
      expect(serial.length).toBeLessThanOrEqual(20);
      expect(serial[0] & 0x80).toBe(0);
      if (serial[0] === 0) expect(serial[1] & 0x80).toBe(0x80);
      const magnitude = serial[0] === 0 ? serial.subarray(1) : serial;
      expect(magnitude.length).toBe(16);
      expect(issued.node.serialNumber.toLowerCase()).toBe(magnitude.toString('hex'));
    }
    expect(first.parts.serial.content.equals(second.parts.serial.content)).toBe(false);
  });

  it('is valid from now − 5 minutes (but not before the issuing CA) to now + 24 hours', async () => {
    const { issued, earliest, latest } = await issueTimed(ca, makeCsr());
    const notBefore = issued.peculiar.notBefore.getTime();
    const notAfter = issued.peculiar.notAfter.getTime();
    expect(new Date(issued.node.validFrom).getTime()).toBe(notBefore);
    expect(new Date(issued.node.validTo).getTime()).toBe(notAfter);
    expectValidity(ca, issued, 24 * HOUR, 5 * MINUTE, { earliest, latest });
    // RFC 5280 4.1.2.5: UTCTime through 2049
    const [notBeforeTime, notAfterTime] = children(issued.parts.validity);
    expect([notBeforeTime.tag, notAfterTime.tag]).toEqual([0x17, 0x17]);
    expect(notBeforeTime.content.toString('latin1')).toMatch(/^\d{12}Z$/);
  });

  it('lets the requester ask for a shorter life with valid_hours, never a longer one', async () => {
    const issue = async (validHours: string): Promise<IssuedView> => {
      const fields = { ...anchorFields(ca.secret, makeCsr().pem), valid_hours: validHours };
      return viewCertificate(await expectCertificate(await fetch(signUrl(ca), { method: 'POST', body: new URLSearchParams(fields) })));
    };
    expectValidity(ca, await issue('2'), 2 * HOUR, 5 * MINUTE);
    expectValidity(ca, await issue('0.5'), 30 * MINUTE, 5 * MINUTE);
    expectValidity(ca, await issue('48'), 24 * HOUR, 5 * MINUTE);
  });

  it('names the issuing CA as issuer, byte for byte', async () => {
    const issued = viewCertificate(await issueWithForm(ca, makeCsr().pem));
    expect(issued.parts.issuer.encoded.equals(issuingCertificate(ca).parts.subject.encoded)).toBe(true);
  });

  it('issues only the CN of the CSR’s subject (the RA names no other attribute), re-encoded as a UTF8String', async () => {
    const csr = makeCsr({ subject: '/C=GB/ST=Somewhere/O=Mayfly Test/OU=Ops/CN=svc.mayfly.test' });
    const issued = viewCertificate(await issueWithForm(ca, csr.pem));
    expect(issued.parts.subject.encoded.equals(csrSubject(csr.der))).toBe(false);
    expect(issued.parts.subject.encoded.toString('hex')).toBe(`301a3118301606035504030c0f${Buffer.from('svc.mayfly.test').toString('hex')}`);
    expect(issued.node.subject).toBe('CN=svc.mayfly.test');
  });

  it('has basicConstraints CA:FALSE, critical', async () => {
    const issued = viewCertificate(await issueWithForm(ca, makeCsr().pem));
    const basicConstraints = extension(issued, OIDS.basicConstraints);
    expect(basicConstraints.critical).toBe(true);
    // RFC 5280 4.2.1.9: cA DEFAULT FALSE, so DER leaves it out: an empty SEQUENCE
    expect(hex(basicConstraints.value)).toBe('3000');
    const parsed = issued.peculiar.getExtension(x509.BasicConstraintsExtension)!;
    expect({ ca: parsed.ca, pathLength: parsed.pathLength }).toEqual({ ca: false, pathLength: undefined });
    expect(issued.node.ca).toBe(false);
    expect(issued.text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
  });

  it('has keyUsage digitalSignature only, critical, for an EC key', async () => {
    const issued = viewCertificate(await issueWithForm(ca, makeCsr({ keyType: 'p256' }).pem));
    const keyUsage = extension(issued, OIDS.keyUsage);
    expect(keyUsage.critical).toBe(true);
    expect(hex(keyUsage.value)).toBe('03020780'); // BIT STRING, 7 unused bits, bit 0
    expect(issued.peculiar.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(issued.text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  });

  it('has keyUsage digitalSignature and keyEncipherment, critical, for an RSA key', async () => {
    const issued = viewCertificate(await issueWithForm(ca, makeCsr({ keyType: 'rsa2048' }).pem));
    const keyUsage = extension(issued, OIDS.keyUsage);
    expect(keyUsage.critical).toBe(true);
    expect(hex(keyUsage.value)).toBe('030205a0'); // BIT STRING, 5 unused bits, bits 0 and 2
    expect(issued.peculiar.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    expect(issued.text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
  });

  it('has extKeyUsage serverAuth and clientAuth exactly, not critical', async () => {
    const issued = viewCertificate(await issueWithForm(ca, makeCsr().pem));
    const extKeyUsage = extension(issued, OIDS.extKeyUsage);
    expect(extKeyUsage.critical).toBe(false);
    expect(issued.peculiar.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([OIDS.serverAuth, OIDS.clientAuth]);
    expect(issued.text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
  });

  it("has a subjectKeyIdentifier that is the SHA-1 of the leaf's subjectPublicKey bits", async () => {
    const csr = makeCsr();
    const issued = viewCertificate(await issueWithForm(ca, csr.pem));
    const ski = extension(issued, OIDS.subjectKeyIdentifier);
    expect(ski.critical).toBe(false);
    expect(issued.parts.spki.encoded.equals(csrSpki(csr))).toBe(true);
    const expected = keyIdentifierOf(csrSpki(csr));
    expect(issued.peculiar.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId).toBe(expected);
    expect(hex(ski.value)).toBe(`0414${expected}`);
  });

  it("has an authorityKeyIdentifier that is the issuing CA's subjectKeyIdentifier, keyIdentifier only", async () => {
    const issued = viewCertificate(await issueWithForm(ca, makeCsr().pem));
    const issuingSki = issuingCertificate(ca).peculiar.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    expect(issuingSki).toMatch(/^[0-9a-f]{40}$/);
    const aki = extension(issued, OIDS.authorityKeyIdentifier);
    expect(aki.critical).toBe(false);
    const parsed = issued.peculiar.getExtension(x509.AuthorityKeyIdentifierExtension)!;
    expect(parsed.keyId).toBe(issuingSki);
    expect(parsed.certId).toBeUndefined();
    expect(hex(aki.value)).toBe(`30168014${issuingSki}`);
  });

  it('has a subjectAltName with exactly the requested DNS names, not critical under a non-empty subject', async () => {
    const csr = makeCsr({ subject: '/CN=a.mayfly.test', extensions: ['subjectAltName=DNS:a.mayfly.test,DNS:b.mayfly.test,DNS:c.d.mayfly.test'] });
    const issued = viewCertificate(await issueWithForm(ca, csr.pem));
    const san = extension(issued, OIDS.subjectAltName);
    expect(san.critical).toBe(false);
    const names = issued.peculiar.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((name) => ({ type: name.type, value: name.value }));
    expect(names).toEqual([
      { type: 'dns', value: 'a.mayfly.test' },
      { type: 'dns', value: 'b.mayfly.test' },
      { type: 'dns', value: 'c.d.mayfly.test' },
    ]);
    expect(issued.node.subjectAltName).toBe('DNS:a.mayfly.test, DNS:b.mayfly.test, DNS:c.d.mayfly.test');
  });

  it('marks the subjectAltName critical when the subject is empty (RFC 5280 4.2.1.6)', async () => {
    const csr = makeCsr({ subject: '/', extensions: ['subjectAltName=DNS:only-san.mayfly.test'] });
    const issued = viewCertificate(await issueWithForm(ca, csr.pem));
    expect(issued.parts.subject.encoded.toString('hex')).toBe('3000');
    const san = extension(issued, OIDS.subjectAltName);
    expect(san.critical).toBe(true);
    expect(issued.node.subjectAltName).toBe('DNS:only-san.mayfly.test');
  });

  it('copies none of the extensions a CSR requests beyond its names', async () => {
    const csr = makeCsr({
      extensions: [
        'subjectAltName=DNS:svc.mayfly.test',
        'nsComment=copied-comment',
        '1.2.3.4=ASN1:UTF8String:x',
        'extendedKeyUsage=codeSigning',
        'keyUsage=digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment',
        'subjectKeyIdentifier=0102030405060708',
        'basicConstraints=CA:FALSE',
      ],
    });
    // the CSR really asks for all of them
    const requested = openssl(['req', '-noout', '-text'], csr.pem).toString();
    expect(requested).toMatch(/Netscape Comment: \n\s+copied-comment/);
    expect(requested).toMatch(/1\.2\.3\.4: \n/);
    expect(requested).toMatch(/X509v3 Extended Key Usage: \n\s+Code Signing/);
    expect(requested).toMatch(/X509v3 Key Usage: \n\s+Digital Signature, Non Repudiation, Key Encipherment, Data Encipherment/);
    expect(requested).toMatch(/X509v3 Subject Key Identifier: \n\s+01:02:03:04:05:06:07:08/);
    const issued = viewCertificate(await issueWithForm(ca, csr.pem));
    expect(issued.peculiar.extensions.map((e) => e.type).sort()).toEqual(
      [OIDS.basicConstraints, OIDS.keyUsage, OIDS.extKeyUsage, OIDS.subjectKeyIdentifier, OIDS.authorityKeyIdentifier, OIDS.subjectAltName].sort(),
    );
    expect(issued.der.toString('latin1')).not.toContain('copied-comment');
    expect(issued.text).not.toMatch(/Netscape Comment|1\.2\.3\.4|Code Signing|Non Repudiation|Data Encipherment/);
    expect(issued.peculiar.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(issued.peculiar.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([OIDS.serverAuth, OIDS.clientAuth]);
    expect(issued.peculiar.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId).toBe(keyIdentifierOf(csrSpki(csr)));
    expect(hex(extension(issued, OIDS.basicConstraints).value)).toBe('3000');
    expect(extension(issued, OIDS.basicConstraints).critical).toBe(true);
  });
});

describe('validity from the config', () => {
  let clamped: TestCa;
  let ninetyMinutes: TestCa;
  let backdated: TestCa;
  beforeAll(async () => {
    [clamped, ninetyMinutes, backdated] = await Promise.all([
      startTestCa({ editConfig: replaceConfigLine(/valid_hours: 24\b/, 'valid_hours: 100000') }),
      startTestCa({ editConfig: replaceConfigLine(/valid_hours: 24\b/, 'validity: 90m') }),
      startTestCa({ editConfig: replaceConfigLine(/backdate_minutes: 5\b/, 'backdate_minutes: 15') }),
    ]);
  });
  afterAll(() => Promise.all([clamped, ninetyMinutes, backdated].map((ca) => ca?.stop())));

  it("never outlives the issuing certificate: notAfter is clamped to the issuer's notAfter", async () => {
    const issuing = issuingCertificate(clamped);
    const { issued, earliest } = await issueTimed(clamped, makeCsr());
    // 100000 hours is far past the issuing certificate's end
    expect(earliest + 100_000 * HOUR).toBeGreaterThan(issuing.peculiar.notAfter.getTime());
    expect(issued.peculiar.notAfter.getTime()).toBe(issuing.peculiar.notAfter.getTime());
    expect(issued.node.validTo).toBe(issuing.node.validTo);
    expect(issued.peculiar.notBefore.getTime() + 5 * MINUTE).toBeGreaterThanOrEqual(earliest);
  });

  it('honours validity: 90m', async () => {
    const { issued, earliest, latest } = await issueTimed(ninetyMinutes, makeCsr());
    expectValidity(ninetyMinutes, issued, 90 * MINUTE, 5 * MINUTE, { earliest, latest });
  });

  it('honours backdate_minutes: 15, as far back as the issuing CA goes', async () => {
    const { issued, earliest, latest } = await issueTimed(backdated, makeCsr());
    expectValidity(backdated, issued, 24 * HOUR, 15 * MINUTE, { earliest, latest });
  });
});
