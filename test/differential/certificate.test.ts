// Differential test of the hand-written TBSCertificate encoder: certificates issued by
// issueCertificate for generated requests under real P-256, P-384, RSA-2048 and Ed25519 issuing
// CAs must read, field for field, as intended when @peculiar/x509 parses them, verify under the
// CA's key with Node's crypto, and (a sample) pass `openssl verify -x509_strict`.
// MAYFLY_DIFF_CERTS_PER_CA sets the count per CA (default 100), MAYFLY_DIFF_OPENSSL_EVERY the sample.
import 'reflect-metadata';
import { createHash, sign, X509Certificate as NodeX509Certificate, webcrypto, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import ipaddr from 'ipaddr.js';
import { parseCertificationRequest } from '../../src/csr/parse';
import type { KeyUsageName } from '../../src/x509/oids';
import { issueCertificate } from '../../src/issuance/certificate';
import { dnsNameProblem } from '../../src/issuance/lint';
import { encodeSubject, NAME_ATTRIBUTES } from '../../src/x509/name';
import { issuanceNames, issuedSubject } from '../../src/policy/names';
import type { CaKeyType } from '../../src/issuance/ca_bootstrap';
import type { CertificateProfile } from '../../src/issuance/profile';
import { SignerUnavailableError } from '../../src/signers/signer';
import type { CertificationRequest, IssuanceNames, IssuedCertificate, SubjectAttribute } from '../../src/types';
import { makeCsr } from '../helpers/openssl';
import { certificateFields, childrenOf, hex, oidText, slice, tlv, tlvAt } from '../unit/support/asn1';
import { createTestSigningCa, type TestSigningCa } from '../unit/support/ca';
import { csrParts } from '../unit/support/csr';
import { buildName, CsrCorpus, dnsName, namedBits, type GeneratedCsr } from './support/csr_corpus';
import { createKeyPool, type KeyPool } from './support/keys';
import { opensslVerifyBatch, pemOf } from './support/openssl_batch';
import { envCount, Prng } from './support/prng';
import { KEY_USAGE_NAMES } from './support/reference_csr';

const SEED = envCount('MAYFLY_DIFF_SEED', 0x6d617966) ^ 0xce27;
const PER_CA = envCount('MAYFLY_DIFF_CERTS_PER_CA', 100);
const OPENSSL_EVERY = Math.max(1, envCount('MAYFLY_DIFF_OPENSSL_EVERY', 25));

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const crypto = webcrypto as unknown as Crypto;
// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto is the same API.
type Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;

/** RFC 5280 4.2.1.12 key purposes, written out here rather than taken from src/x509/oids.ts. */
const KEY_PURPOSES: Readonly<Record<string, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
};

/** The AlgorithmIdentifier each CA key type signs with: RFC 5758 3.2, RFC 4055 5, RFC 8410 3. */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, { der: string; name: string; hash?: string }>> = {
  p256: { der: '300a06082a8648ce3d040302', name: 'ECDSA', hash: 'SHA-256' },
  p384: { der: '300a06082a8648ce3d040303', name: 'ECDSA', hash: 'SHA-384' },
  rsa2048: { der: '300d06092a864886f70d01010b0500', name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  ed25519: { der: '300506032b6570', name: 'Ed25519' },
};

const hexOf = (bytes: ArrayBuffer | Uint8Array): string => Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex');

/** One issuance: what was asked for and what came back. */
interface Issuance {
  readonly csr: GeneratedCsr;
  readonly parsed: CertificationRequest;
  /** The subject policy would hand issuance: the request's attributes of the types Mayfly writes. */
  readonly subject: readonly SubjectAttribute[];
  readonly names: IssuanceNames;
  readonly profile: CertificateProfile;
  readonly now: Date;
  readonly openssl: boolean;
  readonly issued: IssuedCertificate;
}

/** The CA's facts, read with the library from its PEM, not from Mayfly's SigningCa. */
interface CaFacts {
  readonly certificate: x509.X509Certificate;
  readonly subjectDer: string;
  readonly subjectKeyId: string;
  readonly notAfter: number;
  readonly publicKey: KeyObject;
}

function caFacts(ca: TestSigningCa): CaFacts {
  const certificate = new x509.X509Certificate(ca.hierarchy.intermediate.certificate);
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error('the issuing CA certificate has no subjectKeyIdentifier');
  return {
    certificate,
    subjectDer: certificateFields(new Uint8Array(certificate.rawData)).subject.toString('hex'),
    subjectKeyId: ski.keyId,
    notAfter: certificate.notAfter.getTime(),
    publicKey: new NodeX509Certificate(ca.hierarchy.intermediate.certificate).publicKey,
  };
}

/** The octets (hex) of an address in text, so text forms the library and ipaddr.js print alike compare. */
const ipOctets = (text: string): string => Buffer.from(ipaddr.parse(text).toByteArray()).toString('hex');

function randomIp(r: Prng): string {
  const octets = r.chance(0.5) ? [...r.bytes(4)] : r.chance(0.3) ? [0x20, 0x01, 0x0d, 0xb8, ...Buffer.alloc(10), ...r.bytes(2)] : [...r.bytes(16)];
  return ipaddr.fromByteArray(octets).toString();
}

// Every attribute type Mayfly writes into a subject, so the encoder sees them all, and how it writes each (RFC 5280 A.1).
const WRITTEN_TYPES = Object.values(NAME_ATTRIBUTES).map(({ oid }) => oid).filter((oid) => oid !== NAME_ATTRIBUTES.CN.oid);
const STRING_TAGS: Readonly<Record<string, number>> = { [NAME_ATTRIBUTES.C.oid]: 0x13, [NAME_ATTRIBUTES.DC.oid]: 0x16 };

/**
 * The subject and names policy would hand issuance: the first CN and the attributes of the types
 * Mayfly writes (those its string types can hold), the names normalised with the CN among them and
 * each a host name (policy refuses the rest with a reason; the lint would refuse them here).
 */
function asPolicyWould(parsed: CertificationRequest, requested: IssuanceNames): Pick<Issuance, 'subject' | 'names'> {
  const commonName = parsed.commonNames.slice(0, 1);
  const issued = issuanceNames(commonName, requested);
  const names = { dnsNames: issued.dnsNames.filter((name) => dnsNameProblem(name, true) === undefined), ipAddresses: issued.ipAddresses };
  const writable = (attribute: SubjectAttribute) => {
    try {
      return encodeSubject([attribute]).length > 0;
    } catch {
      return false;
    }
  };
  const subject = issuedSubject(parsed.subjectAttributes, WRITTEN_TYPES).filter((attribute, index, all) =>
    attribute.type === NAME_ATTRIBUTES.CN.oid
      ? all.findIndex((a) => a.type === attribute.type) === index && attribute.value.length <= 64 && [...names.dnsNames, ...names.ipAddresses].includes(attribute.value)
      : writable(attribute),
  );
  return { subject, names };
}

/** The subject, names, profile and time of issuance for one request. */
function plan(r: Prng, parsed: CertificationRequest, openssl: boolean): Pick<Issuance, 'subject' | 'names' | 'profile' | 'now'> {
  const fromRequest = { dnsNames: [...parsed.dnsNames], ipAddresses: [...parsed.ipAddresses] };
  const extra = () => ({
    dnsNames: Array.from({ length: r.int(0, 3) }, () => dnsName(r)),
    ipAddresses: Array.from({ length: r.int(0, 2) }, () => randomIp(r)),
  });
  let names: IssuanceNames;
  const choice = r.int(0, 9);
  if (choice <= 5) names = fromRequest;
  else if (choice === 6) names = { dnsNames: [], ipAddresses: [] };
  else if (choice === 7) {
    const more = extra();
    names = { dnsNames: [...fromRequest.dnsNames, ...more.dnsNames], ipAddresses: [...fromRequest.ipAddresses, ...more.ipAddresses] };
  } else names = extra();
  let issued = asPolicyWould(parsed, names);
  // RFC 5280 4.1.2.6 and the profile: the identity is always in the SAN (policy guarantees one).
  while (issued.names.dnsNames.length + issued.names.ipAddresses.length === 0) issued = asPolicyWould(parsed, { dnsNames: [dnsName(r)], ipAddresses: [] });

  // keyCertSign needs cA TRUE (RFC 5280 4.2.1.3), which a leaf never has, and cRLSign a non-empty
  // subject (4.1.2.6): Mayfly does not stop either, so they are edge tests below, not corpus material.
  const keyUsage = r.chance(0.4) ? undefined : (KEY_USAGE_NAMES.filter((name) => name !== 'keyCertSign' && name !== 'cRLSign' && r.chance(0.35)) as KeyUsageName[]);
  const purposes = [...Object.keys(KEY_PURPOSES), '1.3.6.1.5.5.7.3.17', `1.3.6.1.4.1.55555.1.${r.int(0, 99999)}`, `2.999.${r.int(0, 5000)}`];
  const profile: CertificateProfile = {
    validityMs: openssl ? r.pick([HOUR, DAY, 90 * DAY]) : r.pick([SECOND, MINUTE, HOUR, DAY, 90 * DAY, 397 * DAY, 800 * DAY]),
    backdateMs: r.pick([0, SECOND, 5 * MINUTE, HOUR, DAY]),
    ...(keyUsage && keyUsage.length > 0 ? { keyUsage } : {}),
    extKeyUsage: Array.from({ length: r.pick([0, 1, 2, 2, 3, 4]) }, () => r.pick(purposes)),
    subjectAttributes: WRITTEN_TYPES,
    allowUnderscores: true,
  };
  // Sub-second parts, so the whole-second rounding of RFC 5280 4.1.2.5 is exercised.
  const now = openssl ? new Date() : new Date(Date.now() - r.int(0, 30) * DAY - r.int(0, DAY - 1));
  return { ...issued, profile, now };
}

interface Problem {
  readonly certificate: string;
  readonly field: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

/** Every way the certificate, as @peculiar/x509 reads it, differs from what was intended. */
async function problemsOf(issuance: Issuance, ca: CaFacts, caType: CaKeyType, label: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  const check = (field: string, expected: unknown, actual: unknown) => {
    if (JSON.stringify(expected) !== JSON.stringify(actual)) problems.push({ certificate: label, field, expected, actual });
  };
  const der = issuance.issued.der;
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(der);
  } catch (error) {
    return [{ certificate: label, field: '(parse)', expected: 'a certificate', actual: String(error) }];
  }
  const asn = AsnConvert.parse(der, Certificate);
  const raw = certificateFields(der);
  const request = csrParts(issuance.csr.der);
  const libraryRequest = new x509.Pkcs10CertificateRequest(issuance.csr.der);

  // RFC 5280 4.1.2.1 and 4.1.2.2.
  check('version', 2, asn.tbsCertificate.version);
  const serial = Buffer.from(asn.tbsCertificate.serialNumber);
  check('serialNumber', issuance.issued.serialNumber, certificate.serialNumber.toLowerCase());
  check('serialNumber is positive, minimal and at most 20 octets', true, serial.length <= 20 && (serial[0] & 0x80) === 0 && !(serial.length > 1 && serial[0] === 0 && (serial[1] & 0x80) === 0) && serial.some((b) => b !== 0));

  // RFC 5280 4.1.1.2 / 4.1.2.3: the same AlgorithmIdentifier inside and outside the TBS.
  const algorithm = SIGNATURE_ALGORITHMS[caType];
  check('signature (TBS)', algorithm.der, raw.signature.toString('hex'));
  check('signatureAlgorithm', algorithm.der, raw.outerSignatureAlgorithm.toString('hex'));
  const libraryAlgorithm = certificate.signatureAlgorithm as { name: string; hash?: { name: string } };
  check('signatureAlgorithm (library)', { name: algorithm.name, hash: algorithm.hash }, { name: libraryAlgorithm.name, hash: libraryAlgorithm.hash?.name });

  // RFC 5280 4.1.2.4 / 4.1.2.6: issuer is the CA's subject byte for byte; the subject, the checked
  // attributes written afresh, one RDN each, in the string type Mayfly writes for the type.
  check('issuer', ca.subjectDer, raw.issuer.toString('hex'));
  check('issuer (library)', hexOf(ca.certificate.subjectName.toArrayBuffer()), hexOf(certificate.issuerName.toArrayBuffer()));
  check('issuer text (library)', ca.certificate.subject, certificate.issuer);
  const subjectRdns = childrenOf(raw.subject, tlvAt(raw.subject, 0)).map((rdn) =>
    childrenOf(raw.subject, rdn).map((attribute) => {
      const [type, value] = childrenOf(raw.subject, attribute);
      return { type: oidText(raw.subject.subarray(type.contentStart, type.end)), tag: value.tag, value: raw.subject.subarray(value.contentStart, value.end).toString('hex') };
    }),
  );
  check('subject', issuance.subject.map((a) => [{ type: a.type, tag: STRING_TAGS[a.type] ?? 0x0c, value: Buffer.from(a.value, 'utf8').toString('hex') }]), subjectRdns);
  check('subject (library)', issuance.subject.map((a) => a.value), certificate.subjectName.toJSON().flatMap((rdn) => Object.values(rdn).flat()));

  // RFC 5280 4.1.2.5: whole seconds; backdated, but not before the issuer; never past the issuer's notAfter.
  const issuedAt = Math.floor(issuance.now.getTime() / 1000) * 1000;
  check('notBefore', new Date(Math.max(issuedAt - issuance.profile.backdateMs, ca.certificate.notBefore.getTime())).toISOString(), certificate.notBefore.toISOString());
  check('notAfter', new Date(Math.min(issuedAt + issuance.profile.validityMs, ca.notAfter)).toISOString(), certificate.notAfter.toISOString());
  check('notBefore (returned)', certificate.notBefore.toISOString(), issuance.issued.notBefore.toISOString());
  check('notAfter (returned)', certificate.notAfter.toISOString(), issuance.issued.notAfter.toISOString());

  check('subjectPublicKeyInfo', request.spki.toString('hex'), hexOf(certificate.publicKey.rawData));
  check('subjectPublicKeyInfo (library)', hexOf(libraryRequest.publicKey.rawData), hexOf(certificate.publicKey.rawData));

  // RFC 5280 4.2: exactly these extensions, in this order, with this criticality.
  const subjectEmpty = issuance.subject.length === 0;
  const names = issuance.names;
  const hasNames = names.dnsNames.length + names.ipAddresses.length > 0;
  const purposes = issuance.profile.extKeyUsage.map((purpose) => KEY_PURPOSES[purpose] ?? purpose);
  const expectedExtensions = [
    { type: '2.5.29.19', critical: true },
    { type: '2.5.29.15', critical: true },
    ...(purposes.length > 0 ? [{ type: '2.5.29.37', critical: false }] : []),
    { type: '2.5.29.14', critical: false },
    { type: '2.5.29.35', critical: false },
    ...(hasNames ? [{ type: '2.5.29.17', critical: subjectEmpty }] : []),
  ];
  check('extensions', expectedExtensions, certificate.extensions.map((e) => ({ type: e.type, critical: e.critical })));

  // RFC 5280 4.2.1.9: an end entity: cA FALSE, which DER writes as an empty SEQUENCE.
  const basicConstraints = certificate.getExtension(x509.BasicConstraintsExtension);
  check('basicConstraints', { ca: false, value: '3000' }, basicConstraints && { ca: basicConstraints.ca, ...(basicConstraints.pathLength === undefined ? {} : { pathLength: basicConstraints.pathLength }), value: hexOf(basicConstraints.value) });

  // RFC 5280 4.2.1.3: the profile's bits, or digitalSignature (+ keyEncipherment for rsaEncryption keys).
  const rsaEncryption = libraryRequest.publicKey.algorithm.name === 'RSASSA-PKCS1-v1_5';
  const usage = issuance.profile.keyUsage ?? (rsaEncryption ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  const bits = usage.map((name) => KEY_USAGE_NAMES.indexOf(name));
  const keyUsage = certificate.getExtension(x509.KeyUsagesExtension);
  check('keyUsage', { usages: bits.reduce((flags, bit) => flags | (1 << bit), 0), value: namedBits(bits).toString('hex') }, keyUsage && { usages: keyUsage.usages, value: hexOf(keyUsage.value) });

  const extKeyUsage = certificate.getExtension(x509.ExtendedKeyUsageExtension);
  check('extKeyUsage', purposes.length > 0 ? purposes : null, extKeyUsage ? extKeyUsage.usages.map(String) : null);

  // RFC 5280 4.2.1.2 method (1), by the library's own SHA-1 of the subjectPublicKey.
  const subjectKeyIdentifier = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  check('subjectKeyIdentifier', hexOf(await certificate.publicKey.getKeyIdentifier(crypto)), subjectKeyIdentifier?.keyId);
  const bitString = childrenOf(request.spki, tlvAt(request.spki, 0))[1];
  check('subjectKeyIdentifier (SHA-1 of the request key here)', createHash('sha1').update(request.spki.subarray(bitString.contentStart + 1, bitString.end)).digest('hex'), subjectKeyIdentifier?.keyId);
  // RFC 5280 4.2.1.1: keyIdentifier only, the CA certificate's SKI.
  const authorityKeyIdentifier = certificate.getExtension(x509.AuthorityKeyIdentifierExtension);
  check('authorityKeyIdentifier', { keyId: ca.subjectKeyId }, authorityKeyIdentifier && { keyId: authorityKeyIdentifier.keyId, ...(authorityKeyIdentifier.certId ? { certId: 'present' } : {}) });

  const subjectAltName = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  check(
    'subjectAltName',
    hasNames ? [...names.dnsNames.map((value) => ({ type: 'dns', value })), ...names.ipAddresses.map((value) => ({ type: 'ip', value: ipOctets(value) }))] : null,
    subjectAltName ? subjectAltName.names.items.map((n) => ({ type: n.type, value: n.type === 'ip' ? ipOctets(n.value) : n.value })) : null,
  );

  check('signature verifies (library, CA public key)', true, await certificate.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true }, crypto));
  return problems;
}

const describeIssuance = (caType: string, issuance: Issuance, index: number): string =>
  `${caType} certificate #${index} for seed ${SEED} request #${issuance.csr.index} [${[...new Set(issuance.csr.features.filter((f) => /^(key|sig|subject|builder)/.test(f)))].join(' ')}] profile ${JSON.stringify(issuance.profile)} names ${JSON.stringify(issuance.names)} now ${issuance.now.toISOString()}`;

function report(problems: readonly Problem[]): string[] {
  const byField = new Map<string, Problem[]>();
  for (const problem of problems) byField.set(problem.field, [...(byField.get(problem.field) ?? []), problem]);
  return [...byField].map(
    ([field, list]) =>
      `${field}: ${list.length} certificate(s)\n` +
      list
        .slice(0, 3)
        .map((p) => `    ${p.certificate}\n      expected: ${JSON.stringify(p.expected)}\n      actual:   ${JSON.stringify(p.actual)}`)
        .join('\n'),
  );
}

let pool: KeyPool;
let corpus: CsrCorpus;
beforeAll(async () => {
  pool = await createKeyPool();
  corpus = new CsrCorpus(pool);
}, 60_000);

const CA_TYPES: readonly CaKeyType[] = ['p256', 'p384', 'rsa2048', 'ed25519'];

describe.each(CA_TYPES.map((type, n) => [type, n] as const))('issueCertificate under a %s issuing CA', (caType, n) => {
  let ca: TestSigningCa;
  let facts: CaFacts;
  const issuances: Issuance[] = [];

  beforeAll(async () => {
    // Made 60 days back, so that requests issued up to 30 days ago lie within its validity.
    ca = await createTestSigningCa(caType, new Date(Date.now() - 60 * DAY));
    facts = caFacts(ca);
    for (let index = n * 10 * PER_CA; issuances.length < PER_CA; index++) {
      const csr = await corpus.generate(index, Prng.forItem(SEED, index));
      // A VisibleString subject is copied into a certificate OpenSSL cannot load: an edge test below.
      if (csr.features.includes('subject:visible')) continue;
      let parsed: CertificationRequest;
      try {
        parsed = parseCertificationRequest(csr.der);
      } catch {
        continue; // csr_parse.test.ts reports requests Mayfly cannot read
      }
      const openssl = issuances.length % OPENSSL_EVERY === 0;
      const planned = plan(Prng.forItem(SEED ^ 0x1551, index), parsed, openssl);
      const issued = await issueCertificate({ subject: planned.subject, publicKey: parsed.publicKey, names: planned.names }, planned.profile, ca.signingCa, planned.now);
      issuances.push({ csr, parsed, ...planned, openssl, issued });
    }
  }, 120_000);
  afterAll(() => ca?.remove());

  it(`issues ${PER_CA} certificates that @peculiar/x509 reads field for field as intended`, async () => {
    const problems: Problem[] = [];
    for (const [i, issuance] of issuances.entries()) problems.push(...(await problemsOf(issuance, facts, caType, describeIssuance(caType, issuance, i))));
    expect(report(problems)).toEqual([]);
  });

  it('issues certificates that verify under the CA key with Node’s crypto and name it as issuer', () => {
    const issuing = new NodeX509Certificate(ca.hierarchy.intermediate.certificate);
    const failed = issuances.flatMap((issuance, i) => {
      let verdict: string;
      try {
        const certificate = new NodeX509Certificate(Buffer.from(issuance.issued.der));
        verdict = certificate.verify(facts.publicKey) && certificate.checkIssued(issuing) ? 'OK' : 'does not verify';
      } catch (error) {
        verdict = `Node cannot load it: ${(error as Error).message}`;
      }
      return verdict === 'OK' ? [] : [`${describeIssuance(caType, issuance, i)}: ${verdict}`];
    });
    expect(failed).toEqual([]);
  });

  it(`issues certificates that pass openssl verify -x509_strict (every ${OPENSSL_EVERY}th)`, () => {
    const sample = issuances.filter((issuance) => issuance.openssl);
    expect(sample.length).toBeGreaterThan(0);
    const { ok, output } = opensslVerifyBatch(sample.map((issuance) => pemOf(issuance.issued.der)), ca.rootFile, ca.chainFile, { strict: true });
    const failed = sample.flatMap((issuance, i) => (ok[i] ? [] : [describeIssuance(caType, issuance, issuances.indexOf(issuance))]));
    expect({ failed, output: failed.length > 0 ? output : '' }).toEqual({ failed: [], output: '' });
  });

  it('notices a certificate that differs from the intent (the checks above are not vacuous)', async () => {
    const issuance = issuances[0];
    const der = Buffer.from(issuance.issued.der);
    const tbs = childrenOf(der, childrenOf(der, tlvAt(der, 0))[0]);
    const notAfter = childrenOf(der, tbs[4])[1];
    const digit = notAfter.end - 2; // the last digit of the seconds, before the 'Z'
    der[digit] = der[digit] === 0x30 ? 0x31 : 0x30;
    const tampered = { ...issuance, issued: { ...issuance.issued, der }, names: { ...issuance.names, dnsNames: [...issuance.names.dnsNames, 'not-issued.mayfly.test'] } };
    const fields = (await problemsOf(tampered, facts, caType, 'tampered')).map((problem) => problem.field);
    expect(fields).toEqual(expect.arrayContaining(['notAfter', 'subjectAltName', 'signature verifies (library, CA public key)']));
  });

  it('varies what it issues: empty and full profiles, subject attributes and critical-SAN certificates, clamped validity', () => {
    if (PER_CA < 100) return;
    const has = (test: (issuance: Issuance) => boolean) => issuances.some(test);
    expect({
      defaultKeyUsage: has((i) => i.profile.keyUsage === undefined),
      chosenKeyUsage: has((i) => i.profile.keyUsage !== undefined),
      noExtKeyUsage: has((i) => i.profile.extKeyUsage.length === 0),
      customExtKeyUsage: has((i) => i.profile.extKeyUsage.some((p) => /^\d/.test(p))),
      subjectAttributes: has((i) => i.subject.some((a) => a.type !== NAME_ATTRIBUTES.CN.oid)),
      ipSubjectAltName: has((i) => i.names.ipAddresses.length > 0),
      emptySubject: has((i) => i.subject.length === 0),
      clampedToIssuer: has((i) => i.issued.notAfter.getTime() === facts.notAfter),
      rsaRequester: has((i) => i.parsed.publicKey.type === 'RSA'),
    }).toEqual({
      defaultKeyUsage: true,
      chosenKeyUsage: true,
      noExtKeyUsage: true,
      customExtKeyUsage: true,
      subjectAttributes: true,
      ipSubjectAltName: true,
      emptySubject: true,
      clampedToIssuer: true,
      rsaRequester: true,
    });
  });
});

describe('issueCertificate edges', () => {
  let ca: TestSigningCa;
  let facts: CaFacts;
  let csr: CertificationRequest;
  const PROFILE: CertificateProfile = { validityMs: DAY, backdateMs: 5 * MINUTE, extKeyUsage: ['serverAuth'], subjectAttributes: [NAME_ATTRIBUTES.O.oid], allowUnderscores: false };

  beforeAll(async () => {
    ca = await createTestSigningCa('p256');
    facts = caFacts(ca);
    csr = parseCertificationRequest(makeCsr({ subject: '/CN=edge.mayfly.test/O=Mayfly' }).der);
  }, 60_000);
  afterAll(() => ca?.remove());

  const issue = (profile: CertificateProfile, names: IssuanceNames = { dnsNames: ['edge.mayfly.test'], ipAddresses: [] }, now?: Date) =>
    issueCertificate({ subject: csr.subjectAttributes, publicKey: csr.publicKey, names }, profile, ca.signingCa, now);

  it('refuses to sign once the issuing CA has expired (nothing is signed)', async () => {
    await expect(issue(PROFILE, undefined, new Date(facts.notAfter + SECOND))).rejects.toBeInstanceOf(SignerUnavailableError);
  });

  /** The dotted OIDs of an extKeyUsage value, decoded here with BigInt arcs (asn1js garbles arcs past 2^53). */
  const purposesOf = (der: Uint8Array): string[] => {
    const value = Buffer.from(new x509.X509Certificate(der).getExtension(x509.ExtendedKeyUsageExtension)!.value);
    return childrenOf(value, tlvAt(value, 0)).map((oid) => {
      const arcs: bigint[] = [];
      let arc = 0n;
      for (const octet of value.subarray(oid.contentStart, oid.end)) {
        arc = (arc << 7n) | BigInt(octet & 0x7f);
        if ((octet & 0x80) === 0) {
          arcs.push(arc);
          arc = 0n;
        }
      }
      const [first, ...rest] = arcs;
      return [first < 80n ? first / 40n : 2n, first < 80n ? first % 40n : first - 80n, ...rest].join('.');
    });
  };

  it('writes a profile key purpose under the UUID arc 2.25 (X.667, a 128-bit arc) as that OID', async () => {
    const uuidOid = '2.25.329800735698586629295641978511506172918';
    const issued = await issue({ ...PROFILE, extKeyUsage: [uuidOid] });
    expect(purposesOf(issued.der)).toEqual([uuidOid]);
  });

  it('does not write a profile key purpose that is no OID (1.45.3: under arc 1 the second arc is 0–39, X.660) as another OID', async () => {
    // X.690 8.19.4 folds the first two arcs into 40·X + Y, so "1.45.3" would be read back as 2.5.3.
    const outcome = await issue({ ...PROFILE, extKeyUsage: ['1.45.3'] }).then(
      (issued) => ({ issued: purposesOf(issued.der) }),
      (error: Error) => ({ refused: error.message }),
    );
    expect(outcome).not.toEqual({ issued: ['2.5.3'] });
  });

  it('writes no keyUsage with no bits set (RFC 5280 4.2.1.3: at least one bit MUST be 1) for key_usage: []', async () => {
    const outcome = await issue({ ...PROFILE, keyUsage: [] }).then(
      (issued) => {
        const keyUsage = new x509.X509Certificate(issued.der).getExtension(x509.KeyUsagesExtension);
        // The BIT STRING's octets after its unused-bits octet; the library's usages reads NaN for none.
        return keyUsage ? { keyUsage: Buffer.from(keyUsage.value).subarray(3).some((octet) => octet !== 0) ? 'some bits set' : 'no bits set' } : { keyUsage: 'absent' };
      },
      (error: Error) => ({ refused: error.message }),
    );
    expect(outcome).not.toEqual({ keyUsage: 'no bits set' });
  });

  it('does not assert keyCertSign in a certificate whose basicConstraints say cA FALSE (RFC 5280 4.2.1.3), for key_usage: [digitalSignature, keyCertSign]', async () => {
    const outcome = await issue({ ...PROFILE, keyUsage: ['digitalSignature', 'keyCertSign'] }).then(
      (issued) => {
        const certificate = new x509.X509Certificate(issued.der);
        const keyCertSign = ((certificate.getExtension(x509.KeyUsagesExtension)?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign) !== 0;
        const { ok, output } = opensslVerifyBatch([pemOf(issued.der)], ca.rootFile, ca.chainFile, { strict: true });
        return { keyCertSign, ca: certificate.getExtension(x509.BasicConstraintsExtension)?.ca ?? false, opensslStrict: ok[0] ? 'OK' : output.split('\n').find((line) => line.startsWith('error')) };
      },
      (error: Error) => ({ refused: error.message }),
    );
    expect(outcome).not.toMatchObject({ keyCertSign: true, ca: false });
  });

  it('does not assert cRLSign in a certificate with an empty subject (RFC 5280 4.1.2.6: a CRL issuer’s subject MUST be non-empty)', async () => {
    const empty = parseCertificationRequest(makeCsr({ subject: '/', extensions: ['subjectAltName=DNS:crl.mayfly.test'] }).der);
    const outcome = await issueCertificate({ subject: empty.subjectAttributes, publicKey: empty.publicKey, names: { dnsNames: ['crl.mayfly.test'], ipAddresses: [] } }, { ...PROFILE, keyUsage: ['digitalSignature', 'cRLSign'] }, ca.signingCa).then(
      (issued) => {
        const certificate = new x509.X509Certificate(issued.der);
        const cRLSign = ((certificate.getExtension(x509.KeyUsagesExtension)?.usages ?? 0) & x509.KeyUsageFlags.cRLSign) !== 0;
        const { ok, output } = opensslVerifyBatch([pemOf(issued.der)], ca.rootFile, ca.chainFile, { strict: true });
        return { cRLSign, subject: certificate.subject, opensslStrict: ok[0] ? 'OK' : output.split('\n').find((line) => line.startsWith('error')) };
      },
      (error: Error) => ({ refused: error.message }),
    );
    expect(outcome).not.toMatchObject({ cRLSign: true, subject: '' });
  });

  it('issues, for a request whose subject holds a VisibleString (no DirectoryString choice, RFC 5280 A.1), a certificate OpenSSL can load, or refuses', async () => {
    const key = pool.byKind.get('p256')![0];
    const subject = Buffer.from(AsnConvert.serialize(buildName([[{ type: '2.5.4.10', kind: 'visible', text: 'Mayfly Visible' }], [{ type: '2.5.4.3', kind: 'utf8', text: 'visible.mayfly.test' }]])));
    const info = tlv(0x30, hex('020100'), subject, key.spki, tlv(0xa0));
    const der = tlv(0x30, info, hex('300a06082a8648ce3d040302'), tlv(0x03, Buffer.of(0), sign('sha256', info, key.privateKey)));
    const outcome = await (async () => {
      const request = parseCertificationRequest(der);
      const issued = await issueCertificate({ subject: request.subjectAttributes, publicKey: request.publicKey, names: { dnsNames: ['visible.mayfly.test'], ipAddresses: [] } }, PROFILE, ca.signingCa);
      const { ok, output } = opensslVerifyBatch([pemOf(issued.der)], ca.rootFile, ca.chainFile);
      return ok[0] ? 'issued, and openssl verify says OK' : `issued, and openssl says: ${output.trim().split('\n').slice(0, 3).join(' | ')}`;
    })().catch((error: Error) => `refused: ${error.message}`);
    expect(outcome).toMatch(/^(refused|issued, and openssl verify says OK)/);
  });

  describe('across the UTCTime / GeneralizedTime boundary (RFC 5280 4.1.2.5)', () => {
    let future: TestSigningCa;
    const cases = [
      // [now, backdate, validity, notBefore text, notAfter text]
      { now: '2049-12-31T23:30:00.250Z', backdateMs: 5 * MINUTE, validityMs: HOUR, notBefore: '491231232500Z', notAfter: '20500101003000Z' },
      { now: '2049-12-31T23:59:59.999Z', backdateMs: 0, validityMs: SECOND, notBefore: '491231235959Z', notAfter: '20500101000000Z' },
      { now: '2050-01-01T00:00:00.000Z', backdateMs: 0, validityMs: MINUTE, notBefore: '20500101000000Z', notAfter: '20500101000100Z' },
    ];
    const issuedAt: IssuedCertificate[] = [];

    beforeAll(async () => {
      future = await createTestSigningCa('p256', new Date('2049-12-31T20:00:00Z'));
      for (const c of cases) {
        issuedAt.push(await issueCertificate({ subject: [], publicKey: csr.publicKey, names: { dnsNames: ['y2050.mayfly.test'], ipAddresses: [] } }, { validityMs: c.validityMs, backdateMs: c.backdateMs, extKeyUsage: [], subjectAttributes: [], allowUnderscores: false }, future.signingCa, new Date(c.now)));
      }
    }, 60_000);
    afterAll(() => future?.remove());

    it('writes UTCTime through 2049 and GeneralizedTime from 2050, read back by the library as the same instants', () => {
      const read = issuedAt.map((issued) => {
        const fields = certificateFields(issued.der);
        const text = (tlv: Buffer) => ({ tag: tlv[0], text: slice(tlv, tlvAt(tlv, 0)).subarray(2).toString('latin1') });
        const certificate = new x509.X509Certificate(issued.der);
        return { notBefore: text(fields.notBefore), notAfter: text(fields.notAfter), library: [certificate.notBefore.toISOString(), certificate.notAfter.toISOString()] };
      });
      const timeTag = (text: string) => (text.length === 13 ? 0x17 : 0x18);
      expect(read).toEqual(
        cases.map((c) => {
          const instant = (text: string) => new Date(text.length === 13 ? `20${text.slice(0, 2)}-${text.slice(2, 4)}-${text.slice(4, 6)}T${text.slice(6, 8)}:${text.slice(8, 10)}:${text.slice(10, 12)}Z` : `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)}Z`).toISOString();
          return { notBefore: { tag: timeTag(c.notBefore), text: c.notBefore }, notAfter: { tag: timeTag(c.notAfter), text: c.notAfter }, library: [instant(c.notBefore), instant(c.notAfter)] };
        }),
      );
    });

    it('passes openssl verify -x509_strict at a time inside each validity', () => {
      // -attime takes whole seconds, and OpenSSL counts the notAfter second as expired: the middle, rounded down.
      const results = issuedAt.map((issued) => opensslVerifyBatch([pemOf(issued.der)], future.rootFile, future.chainFile, { strict: true, at: new Date((issued.notBefore.getTime() + issued.notAfter.getTime()) / 2) }));
      expect(results.map((r) => (r.ok[0] ? 'OK' : r.output))).toEqual(cases.map(() => 'OK'));
    });
  });
});
