// The pre-issuance lint (src/issuance/lint.ts), fed deliberately bad to-be-signed leaves.
import { generateKeyPairSync } from 'node:crypto';
import { encodeNamedBits, encodeOctetString, sequence } from '../../src/der';
import { OID } from '../../src/x509/oids';
import { CertificateLintError, dnsNameProblem, lintLeaf, type LeafExtension, type LeafToBeSigned, type LintRules } from '../../src/issuance/lint';

const MINUTE = 60_000;
const NOW = Date.parse('2026-12-06T00:00:00Z');
const RULES: LintRules = { subjectAttributes: ['2.5.4.10'], allowUnderscores: false };
const spki = (compressed: boolean): Uint8Array => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ format: 'der', type: 'spki' });
  if (!compressed) return der;
  // The same SPKI shape with a compressed point (0x02 || X): what the lint must notice.
  const point = der.subarray(der.length - 65);
  const body = Buffer.concat([der.subarray(2, der.length - 65 - 3), Buffer.of(0x03, 34, 0x00, 0x02), point.subarray(1, 33)]);
  return Buffer.concat([Buffer.of(0x30, body.length), body]);
};
const EC_KEY = spki(false);

const extension = (oid: string, critical: boolean, value: Uint8Array): LeafExtension => ({ oid, critical, value });
const EXTENSIONS: readonly LeafExtension[] = [
  extension(OID.basicConstraints, true, sequence()),
  extension(OID.keyUsage, true, encodeNamedBits([0])),
  extension(OID.subjectKeyIdentifier, false, encodeOctetString(Uint8Array.of(1, 2, 3))),
  extension(OID.authorityKeyIdentifier, false, sequence()),
  extension(OID.subjectAltName, false, sequence()),
];

const GOOD: LeafToBeSigned = {
  serialNumber: Uint8Array.from({ length: 16 }, (_, i) => i + 1),
  notBefore: new Date(NOW - 5 * MINUTE),
  notAfter: new Date(NOW + 60 * MINUTE),
  issuer: { notBefore: new Date(NOW - 60 * MINUTE), notAfter: new Date(NOW + 24 * 60 * MINUTE) },
  subject: [
    { type: OID.commonName, value: 'svc.mayfly.test' },
    { type: '2.5.4.10', value: 'Acme' },
  ],
  names: { dnsNames: ['svc.mayfly.test', '*.svc.mayfly.test'], ipAddresses: ['10.0.0.1', '2001:db8::1'] },
  publicKey: { type: 'EC', spki: EC_KEY },
  extensions: EXTENSIONS,
};

const problemsOf = (leaf: Partial<LeafToBeSigned>, rules: LintRules = RULES): string => {
  try {
    lintLeaf({ ...GOOD, ...leaf }, rules);
    return 'passes';
  } catch (error) {
    expect(error).toBeInstanceOf(CertificateLintError);
    return (error as Error).message.replace('the certificate would break the profile, so nothing was signed: ', '');
  }
};
const without = (oid: string) => EXTENSIONS.filter((e) => e.oid !== oid);
const replaced = (oid: string, value: LeafExtension) => EXTENSIONS.map((e) => (e.oid === oid ? value : e));

describe('lintLeaf', () => {
  it('passes a leaf that follows the profile', () => {
    expect(problemsOf({})).toBe('passes');
  });

  describe('serial number (RFC 5280 4.1.2.2)', () => {
    it.each([
      ['21 octets', new Uint8Array(21).fill(1), 'the serial number is 21 octets; RFC 5280 4.1.2.2 allows 1 to 20'],
      ['no octets', new Uint8Array(0), 'the serial number is 0 octets; RFC 5280 4.1.2.2 allows 1 to 20'],
      ['negative', Uint8Array.of(0x80, 1), 'the serial number is not positive (RFC 5280 4.1.2.2)'],
      ['zero', Uint8Array.of(0, 0), 'the serial number is not positive (RFC 5280 4.1.2.2)'],
    ])('refuses a serial of %s', (_, serialNumber, problem) => {
      expect(problemsOf({ serialNumber })).toBe(problem);
    });
  });

  describe('validity', () => {
    it('refuses notBefore not before notAfter', () => {
      expect(problemsOf({ notAfter: GOOD.notBefore })).toBe('notBefore 2026-12-05T23:55:00.000Z is not before notAfter 2026-12-05T23:55:00.000Z');
    });

    it('refuses a leaf starting before its issuer or ending after it', () => {
      const issuer = { notBefore: new Date(NOW - MINUTE), notAfter: new Date(NOW + 30 * MINUTE) };
      expect(problemsOf({ issuer })).toBe(
        "notBefore 2026-12-05T23:55:00.000Z is before the issuing CA's notBefore 2026-12-05T23:59:00.000Z; notAfter 2026-12-06T01:00:00.000Z is after the issuing CA's notAfter 2026-12-06T00:30:00.000Z",
      );
    });
  });

  describe('subject', () => {
    it('refuses attributes the profile does not name, and emailAddress always', () => {
      const subject = [...GOOD.subject, { type: '0.9.2342.19200300.100.1.1', value: 'root' }, { type: '1.2.840.113549.1.9.1', value: 'ceo@example.com' }];
      expect(problemsOf({ subject }, { ...RULES, subjectAttributes: ['2.5.4.10', '1.2.840.113549.1.9.1'] })).toBe(
        'subject attribute 0.9.2342.19200300.100.1.1 is not in the profile; subject attribute 1.2.840.113549.1.9.1 is not in the profile',
      );
    });

    it('refuses two CNs, a CN over 64 characters, and a CN that is not a SAN', () => {
      const long = `${'a'.repeat(53)}.mayfly.test`;
      expect(problemsOf({ subject: [{ type: OID.commonName, value: 'svc.mayfly.test' }, { type: OID.commonName, value: long }], names: { dnsNames: ['svc.mayfly.test'], ipAddresses: [] } })).toBe(
        `the subject has 2 common names; the common name is 65 characters; ub-common-name is 64; the common name '${long}' is not among the subjectAltNames`,
      );
    });

    it('accepts an IP CN that is an iPAddress SAN', () => {
      expect(problemsOf({ subject: [{ type: OID.commonName, value: '10.0.0.1' }] })).toBe('passes');
    });

    it('refuses an empty subject with a non-critical SAN (RFC 5280 4.2.1.6)', () => {
      expect(problemsOf({ subject: [] })).toBe('the subject is empty but subjectAltName is not critical');
      expect(problemsOf({ subject: [], extensions: replaced(OID.subjectAltName, extension(OID.subjectAltName, true, sequence())) })).toBe('passes');
    });
  });

  describe('subjectAltName', () => {
    it('refuses an empty one, or none', () => {
      expect(problemsOf({ subject: [], names: { dnsNames: [], ipAddresses: [] }, extensions: without(OID.subjectAltName) })).toBe('the subjectAltName would be empty; subjectAltName is missing');
    });

    it.each([
      ['an upper-case name', 'Svc.mayfly.test', "name 'Svc.mayfly.test' has label 'Svc', which is not lower-case letters, digits and inner hyphens (RFC 1123 2.1)"],
      ['a trailing dot', 'svc.mayfly.test.', "name 'svc.mayfly.test.' has label '', which is not lower-case letters, digits and inner hyphens (RFC 1123 2.1)"],
      ['an IP address', '10.0.0.1', "name '10.0.0.1' ends in an all-digit label, which clients read as an IP address"],
      ['an underscore', 'foo_bar.mayfly.test', "name 'foo_bar.mayfly.test' has label 'foo_bar', which is not lower-case letters, digits and inner hyphens (RFC 1123 2.1)"],
      ['a leading hyphen', '-lead.mayfly.test', "name '-lead.mayfly.test' has label '-lead', which is not lower-case letters, digits and inner hyphens (RFC 1123 2.1)"],
      ['a wildcard not leftmost', 'a.*.mayfly.test', "name 'a.*.mayfly.test' has label '*', which is not lower-case letters, digits and inner hyphens (RFC 1123 2.1)"],
    ])('refuses a dNSName with %s', (_, name, problem) => {
      expect(problemsOf({ names: { dnsNames: ['svc.mayfly.test', name], ipAddresses: [] } })).toBe(problem);
    });

    it('allows underscores only when the profile does', () => {
      expect(problemsOf({ names: { dnsNames: ['svc.mayfly.test', '_srv.foo_bar.mayfly.test'], ipAddresses: [] } }, { ...RULES, allowUnderscores: true })).toBe('passes');
    });

    it('refuses a repeated name and an address not in canonical form', () => {
      expect(problemsOf({ names: { dnsNames: ['svc.mayfly.test', 'svc.mayfly.test'], ipAddresses: ['2001:DB8::1'] } })).toBe(
        "'2001:DB8::1' is not an IP address in canonical form; the subjectAltName repeats a name",
      );
    });
  });

  describe('extensions', () => {
    it('refuses a repeated extension', () => {
      expect(problemsOf({ extensions: [...EXTENSIONS, EXTENSIONS[2]] })).toBe('extension 2.5.29.14 appears twice (RFC 5280 4.2)');
    });

    it('refuses basicConstraints that is missing, not critical, or CA:TRUE', () => {
      expect(problemsOf({ extensions: without(OID.basicConstraints) })).toBe('basicConstraints is not a critical CA:FALSE');
      expect(problemsOf({ extensions: replaced(OID.basicConstraints, extension(OID.basicConstraints, false, sequence())) })).toBe('basicConstraints is not a critical CA:FALSE');
      expect(problemsOf({ extensions: replaced(OID.basicConstraints, extension(OID.basicConstraints, true, Uint8Array.of(0x30, 0x03, 0x01, 0x01, 0xff))) })).toBe('basicConstraints is not a critical CA:FALSE');
    });

    it('refuses keyUsage that is missing or has a CA bit', () => {
      expect(problemsOf({ extensions: without(OID.keyUsage) })).toBe('keyUsage is missing');
      expect(problemsOf({ extensions: replaced(OID.keyUsage, extension(OID.keyUsage, true, encodeNamedBits([0, 5]))) })).toBe('keyUsage has a CA bit (keyCertSign or cRLSign)');
      expect(problemsOf({ extensions: replaced(OID.keyUsage, extension(OID.keyUsage, true, encodeNamedBits([6]))) })).toBe('keyUsage has a CA bit (keyCertSign or cRLSign)');
    });

    it('refuses a leaf without subject or authority key identifier', () => {
      expect(problemsOf({ extensions: without(OID.subjectKeyIdentifier).filter((e) => e.oid !== OID.authorityKeyIdentifier) })).toBe(
        'subjectKeyIdentifier is missing (RFC 5280 4.2.1.2); authorityKeyIdentifier is missing (RFC 5280 4.2.1.1)',
      );
    });
  });

  it('refuses an EC key whose point is compressed', () => {
    expect(problemsOf({ publicKey: { type: 'EC', spki: spki(true) } })).toBe('the EC public key is not an uncompressed point (RFC 5480 2.2)');
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ serialNumber: new Uint8Array(0), subject: [], names: { dnsNames: [], ipAddresses: [] }, extensions: [] })).toBe(
      'the serial number is 0 octets; RFC 5280 4.1.2.2 allows 1 to 20; the subjectAltName would be empty; basicConstraints is not a critical CA:FALSE; keyUsage is missing; ' +
        'subjectKeyIdentifier is missing (RFC 5280 4.2.1.2); authorityKeyIdentifier is missing (RFC 5280 4.2.1.1); subjectAltName is missing',
    );
  });

  it('is cheap enough for the signing path', () => {
    const started = process.cpuUsage();
    for (let i = 0; i < 1000; i++) lintLeaf(GOOD, RULES);
    // Microseconds each; CPU time, so a loaded machine's stalls do not count, and the bound is loose.
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1_000_000).toBeLessThan(1);
  });
});

describe('dnsNameProblem', () => {
  it('accepts LDH names, A-labels, a leftmost wildcard, and digits in labels other than the last', () => {
    for (const name of ['a.b', 'xn--bcher-kva.example', '*.mayfly.test', '1a.2b.mayfly.test', 'a-b.c--d.test']) expect(dnsNameProblem(name, false)).toBeUndefined();
  });

  it('refuses a trailing hyphen, a bare wildcard, a label over 63, a name over 253 characters', () => {
    expect(dnsNameProblem('trail-.mayfly.test', false)).toMatch(/label 'trail-'/);
    expect(dnsNameProblem('*', false)).toMatch(/label '\*'/);
    expect(dnsNameProblem(`${'a'.repeat(64)}.test`, false)).toBe(`name '${'a'.repeat(64)}.test' has a label longer than 63 characters`);
    expect(dnsNameProblem(`${'a.'.repeat(127)}test`, false)).toMatch(/is longer than 253 characters$/);
  });
});
