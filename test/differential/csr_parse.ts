// Differential test of the hand-written DER reader on the signing path: for thousands of generated
// PKCS#10 requests, parseCertificationRequest must read what @peculiar/asn1-csr (+ Node's crypto)
// reads. csr_parse.test.ts reads 1,000 (npm test), csr_parse.full.test.ts 2,000 (npm run test:full);
// MAYFLY_DIFF_CSRS sets the count, MAYFLY_DIFF_SEED the corpus.
import 'reflect-metadata';
import { constants, sign } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { parseCertificationRequest } from '../../src/csr/parse';
import type { CertificationRequest } from '../../src/types';
import { childrenOf, hex, tlv, tlvAt, toHex, type Tlv } from '../unit/support/asn1';
import { CsrCorpus, ECDSA_OIDS, OIDS, RSA_PKCS1_OIDS, type GeneratedCsr } from './support/csr_corpus';
import { createKeyPool, type KeyPool, type PoolKey } from './support/keys';
import { signPss, verifyPss } from './support/rsassa_pss';
import { envCount, Prng } from './support/prng';
import { libraryFields, type CsrFields } from './support/reference_csr';

const SEED = envCount('MAYFLY_DIFF_SEED', 0x6d617966);

/** Mayfly's CertificationRequest as the same plain data the reference produces. */
function mayflyFields(csr: CertificationRequest): CsrFields {
  const key = csr.publicKey;
  return {
    subject: toHex(csr.subject),
    subjectAttributes: csr.subjectAttributes.map(({ type, value }) => ({ type, value })),
    commonNames: [...csr.commonNames],
    dnsNames: [...csr.dnsNames],
    ipAddresses: [...csr.ipAddresses],
    unsupportedNames: csr.unsupportedNames.map(({ kind, value }) => (kind === 'rfc822Name' || kind === 'uniformResourceIdentifier' ? { kind, value } : { kind })),
    extensions: csr.extensions.map(({ oid, critical, value }) => ({ oid, critical, value: toHex(value) })),
    basicConstraints: csr.basicConstraints ? { ...csr.basicConstraints } : null,
    keyUsage: csr.keyUsage ? [...csr.keyUsage] : null,
    extKeyUsage: csr.extKeyUsage ? [...csr.extKeyUsage] : null,
    publicKey: {
      type: key.type,
      ...(key.bits === undefined ? {} : { bits: key.bits }),
      ...(key.curve === undefined ? {} : { curve: key.curve }),
      ...(key.exponent === undefined ? {} : { exponent: key.exponent.toString() }),
      spki: toHex(key.spki),
    },
    signatureAlgorithm: csr.signatureAlgorithm.oid,
    signatureValid: csr.signatureValid,
  };
}

type Outcome = { fields: CsrFields } | { error: string };

function outcome(read: () => CsrFields): Outcome {
  try {
    return { fields: read() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

interface Disagreement {
  readonly field: string;
  readonly request: string;
  readonly features: readonly string[];
  readonly mayfly: unknown;
  readonly library: unknown;
  readonly der: string;
}

// The library is the slow side (about 1 ms a request); each request is read by it once.
const libraryCache = new WeakMap<Uint8Array, Outcome>();
function libraryOutcome(der: Uint8Array): Outcome {
  let cached = libraryCache.get(der);
  if (!cached) libraryCache.set(der, (cached = outcome(() => libraryFields(der))));
  return cached;
}

/** Every field on which Mayfly and the library disagree about `der`. */
function disagreements(der: Uint8Array, request: string, features: readonly string[]): Disagreement[] {
  const mayfly = outcome(() => mayflyFields(parseCertificationRequest(der)));
  const library = libraryOutcome(der);
  const base = { request, features, der: Buffer.from(der).toString('base64') };
  if ('error' in mayfly || 'error' in library) {
    if ('error' in mayfly && 'error' in library) return [];
    return [{ ...base, field: '(parse)', mayfly: 'error' in mayfly ? mayfly.error : 'parsed', library: 'error' in library ? library.error : 'parsed' }];
  }
  return (Object.keys(library.fields) as (keyof CsrFields)[])
    .filter((field) => !isDeepStrictEqual(mayfly.fields[field], library.fields[field]))
    .map((field) => ({ ...base, field, mayfly: mayfly.fields[field], library: library.fields[field] }));
}

const clip = (value: unknown, length = 400): string => {
  const text = JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return text.length > length ? `${text.slice(0, length)}…` : text;
};

/**
 * One entry a field: how many requests disagree, the features most of them have, then up to
 * three examples with what each side read; the first example's DER (base64) reproduces it.
 */
function report(found: readonly Disagreement[]): string[] {
  const byField = new Map<string, Disagreement[]>();
  for (const d of found) byField.set(d.field, [...(byField.get(d.field) ?? []), d]);
  return [...byField].map(([field, list]) => {
    const counts = new Map<string, number>();
    for (const d of list) for (const feature of new Set(d.features)) counts.set(feature, (counts.get(feature) ?? 0) + 1);
    const shared = [...counts]
      .filter(([feature, count]) => count >= list.length / 2 && !feature.startsWith('builder:'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([feature, count]) => `${feature} (${count})`);
    const signatures = [...counts].filter(([feature]) => feature.startsWith('sig:')).map(([feature, count]) => `${feature} (${count})`);
    const examples = list
      .slice(0, 3)
      .map((d) => `    ${d.request}\n      mayfly:  ${clip(d.mayfly)}\n      library: ${clip(d.library)}`)
      .join('\n');
    const der = list[0].der.length <= 6000 ? `\n    DER of the first: ${list[0].der}` : '';
    const summary = [`features of most: ${shared.join(' ') || '(none in common)'}`, ...(signatures.length > 0 ? [`signatures: ${signatures.join(' ')}`] : [])].join('; ');
    return `${field}: ${list.length} request(s) disagree; ${summary}\n${examples}${der}`;
  });
}

const describeRequest = (csr: GeneratedCsr, what = ''): string => `seed ${SEED} request #${csr.index}${what} [${csr.features.join(' ')}]`;

/** The certificationRequestInfo, DER, and where the signature BIT STRING lies in `der`. */
function signatureOf(der: Uint8Array): { info: Buffer; signatureContent: Tlv } {
  const [info, , signature] = childrenOf(der, tlvAt(der, 0));
  return { info: Buffer.from(der.subarray(info.start, info.end)), signatureContent: signature };
}

/** The request with its info and signature kept and its signatureAlgorithm replaced. */
function relabelled(der: Uint8Array, algorithm: Buffer): Buffer {
  const { info, signatureContent } = signatureOf(der);
  return tlv(0x30, info, algorithm, Buffer.from(der.subarray(signatureContent.start, signatureContent.end)));
}

const oidTlv = (dotted: string): Buffer => {
  const arcs = dotted.split('.').map(BigInt);
  const out: number[] = [];
  const push = (value: bigint) => {
    const septets = [Number(value & 0x7fn)];
    for (let v = value >> 7n; v > 0n; v >>= 7n) septets.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...septets);
  };
  push(arcs[0] * 40n + arcs[1]);
  arcs.slice(2).forEach(push);
  return tlv(0x06, Buffer.from(out));
};
const algorithmIdentifier = (oid: string, parameters?: Buffer): Buffer => tlv(0x30, oidTlv(oid), ...(parameters ? [parameters] : []));

/** The differential test as a jest suite, on `standardCount` generated requests unless MAYFLY_DIFF_CSRS says otherwise. */
export function differentialCsrParse(standardCount: number): void {
  const COUNT = envCount('MAYFLY_DIFF_CSRS', standardCount);
  describe('parseCertificationRequest agrees with @peculiar/asn1-csr on generated requests', () => {
    let pool: KeyPool;
    let corpus: GeneratedCsr[];

    beforeAll(async () => {
      pool = await createKeyPool();
      const generator = new CsrCorpus(pool);
      corpus = [];
      for (let index = 0; index < COUNT; index++) corpus.push(await generator.generate(index, Prng.forItem(SEED, index)));
    }, 120_000);

    it(`reads ${COUNT} requests field for field as the library does`, () => {
      const found = corpus.flatMap((csr) => disagreements(csr.der, describeRequest(csr), csr.features));
      expect(report(found)).toEqual([]);
    });

    it('has signatures the library verifies, nearly all of them, so agreeing on signatureValid means something', () => {
      const verified = corpus.filter((csr) => {
        const library = libraryOutcome(csr.der);
        return 'fields' in library && library.fields.signatureValid;
      }).length;
      expect(verified).toBeGreaterThanOrEqual(corpus.length * 0.9);
    });

    it('exercises each kind of variation the generator claims', () => {
      if (COUNT < 1000) return; // a small corpus cannot promise every feature
      const counts = new Map<string, number>();
      for (const csr of corpus) for (const feature of new Set(csr.features)) counts.set(feature, (counts.get(feature) ?? 0) + 1);
      const required = [
        'key:p256', 'key:p384', 'key:rsa2048', 'key:ed25519', 'key:p521', 'key:ed448', 'key:rsaPss', 'key:rsa2048e3',
        'subject:utf8', 'subject:printable', 'subject:ia5', 'subject:bmp', 'subject:teletex', 'subject:universal', 'subject:visible',
        'subject:multi-valued-rdn', 'subject:empty', 'subject:two-cns',
        'san:dNSName', 'san:iPv4', 'san:iPv6', 'san:rfc822Name', 'san:uniformResourceIdentifier', 'san:directoryName', 'san:registeredID', 'san:otherName',
        'san:duplicate-extension', 'san:many', 'keyUsage:high-bits', 'keyUsage:empty', 'eku:custom', 'eku:arc-over-2^32',
        'basicConstraints:empty', 'basicConstraints:ca', 'basicConstraints:ca+pathLen', 'basicConstraints:pathLen-only',
        'critical:san', 'critical:keyUsage', 'critical:extKeyUsage', 'critical:basicConstraints', 'ext:shuffled', 'ext:opaque-large',
        'attr:challengePassword', 'attr:unstructuredName', 'attributes:omitted',
        'sig:ecdsa-sha256', 'sig:ecdsa-sha384', 'sig:ecdsa-sha512', 'sig:rsa-sha256', 'sig:rsa-sha384', 'sig:rsa-sha512', 'sig:ed25519', 'sig:ed448',
        'sig:rsa-pss/standard', 'sig:rsa-pss/salt', 'sig:rsa-pss/defaults', 'sig:rsa-pss/hash-null', 'sig:rsa-pss/mgf-differs', 'sig:rsa-pss/hash-only',
        'builder:x509-generator', 'builder:asn1-csr',
      ];
      expect(required.filter((feature) => (counts.get(feature) ?? 0) < 2)).toEqual([]);
    });

    describe('requests changed after signing: signatureValid false on both sides, all else agreed', () => {
      /** The disagreements about a changed request, and one more if the library still calls it validly signed. */
      const changed = (csr: GeneratedCsr, der: Uint8Array, what: string): Disagreement[] => {
        const request = describeRequest(csr, ` (${what})`);
        const library = libraryOutcome(der);
        const stillValid = 'fields' in library && library.fields.signatureValid;
        return [
          ...disagreements(der, request, csr.features),
          ...(stillValid ? [{ field: '(the change did not break the signature)', request, features: csr.features, mayfly: '-', library: 'signatureValid: true', der: '' }] : []),
        ];
      };

      it('with one signature octet flipped', () => {
        const found = corpus.flatMap((csr) => {
          const r = Prng.forItem(SEED ^ 0x5a5a, csr.index);
          const { signatureContent } = signatureOf(csr.der);
          const der = Buffer.from(csr.der);
          // Past the unused-bits octet of the BIT STRING.
          der[r.int(signatureContent.contentStart + 1, signatureContent.end - 1)] ^= 1 << r.int(0, 7);
          return changed(csr, der, 'a signature octet flipped');
        });
        expect(report(found)).toEqual([]);
      });

      it('with the last octet of the first subject attribute value changed', () => {
        const withSubject = corpus.filter((csr) => !csr.features.includes('subject:empty'));
        expect(withSubject.length).toBeGreaterThan(corpus.length / 2);
        const found = withSubject.flatMap((csr) => {
          const der = Buffer.from(csr.der);
          const info = childrenOf(der, tlvAt(der, 0))[0];
          const subject = childrenOf(der, info)[1];
          const firstValue = childrenOf(der, childrenOf(der, childrenOf(der, subject)[0])[0])[1];
          // Bit 0 of the last octet: ASCII stays ASCII, a UTF-8 continuation octet stays one.
          der[firstValue.end - 1] ^= 1;
          return changed(csr, der, 'subject changed');
        });
        expect(report(found)).toEqual([]);
      });
    });

    // RFC 2986 4.2 / RFC 5280 4.1.1.2: the signatureAlgorithm names the algorithm, key family
    // included. A request whose RSA signature is labelled ECDSA (or the reverse) is not validly
    // signed, even though Node's crypto.verify, which picks the scheme from the key, would accept it.
    describe('a signature verified under another algorithm family than the one named', () => {
      const pick = (test: (csr: GeneratedCsr) => boolean): GeneratedCsr => {
        const found = corpus.find(test);
        if (!found) throw new Error('the corpus has no such request');
        return found;
      };
      const hashOf = (csr: GeneratedCsr) => /sig:(?:ecdsa|rsa)-(sha\d+)$/.exec(csr.features.find((f) => f.startsWith('sig:'))!)?.[1];

      it('an RSA PKCS#1 v1.5 signature labelled ecdsa-with-SHA*', () => {
        const csr = pick((c) => c.key.kind === 'rsa2048' && /^sig:rsa-sha(256|384|512)$/.test(c.features.find((f) => f.startsWith('sig:'))!));
        const der = relabelled(csr.der, algorithmIdentifier(ECDSA_OIDS[hashOf(csr)!]));
        expect(report(disagreements(der, `seed ${SEED} request #${csr.index}, RSA-signed, relabelled ${ECDSA_OIDS[hashOf(csr)!]}`, []))).toEqual([]);
        expect(libraryFields(der).signatureValid).toBe(false);
      });

      it('an ECDSA signature labelled sha*WithRSAEncryption', () => {
        const csr = pick((c) => c.key.kind === 'p256' && /^sig:ecdsa-sha(256|384|512)$/.test(c.features.find((f) => f.startsWith('sig:'))!));
        const der = relabelled(csr.der, algorithmIdentifier(RSA_PKCS1_OIDS[hashOf(csr)!], hex('0500')));
        expect(report(disagreements(der, `seed ${SEED} request #${csr.index}, ECDSA-signed, relabelled ${RSA_PKCS1_OIDS[hashOf(csr)!]}`, []))).toEqual([]);
        expect(libraryFields(der).signatureValid).toBe(false);
      });

      it('an RSASSA-PSS signature by an id-RSASSA-PSS key labelled sha256WithRSAEncryption (RFC 4055 1.2)', () => {
        const key = pool.byKind.get('rsaPss')![0];
        const csr = pick((c) => c.key === key);
        const { info } = signatureOf(csr.der);
        const signature = sign('sha256', info, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
        const der = tlv(0x30, info, algorithmIdentifier(RSA_PKCS1_OIDS.sha256, hex('0500')), tlv(0x03, Buffer.of(0), signature));
        expect(report(disagreements(der, `seed ${SEED} request #${csr.index} re-signed with RSASSA-PSS (SHA-256, salt 32), labelled sha256WithRSAEncryption`, []))).toEqual([]);
        expect(libraryFields(der).signatureValid).toBe(false);
      });
    });

    describe('edges', () => {
      let ecKey: PoolKey;
      beforeAll(() => {
        ecKey = pool.byKind.get('p256')![0];
      });

      /** A request of `subject` and `extensions` (DER Extension values), signed ECDSA-SHA256 by a pool key. */
      const request = (subject: Buffer, extensions: readonly Buffer[] = [], algorithm?: { identifier: Buffer; key: PoolKey; sign: (info: Buffer) => Buffer }): Buffer => {
        const key = algorithm?.key ?? ecKey;
        const attributes = extensions.length === 0 ? tlv(0xa0) : tlv(0xa0, tlv(0x30, oidTlv(OIDS.extensionRequest), tlv(0x31, tlv(0x30, ...extensions))));
        const info = tlv(0x30, hex('020100'), subject, key.spki, attributes);
        const signature = algorithm ? algorithm.sign(info) : sign('sha256', info, { key: key.privateKey, dsaEncoding: 'der' });
        return tlv(0x30, info, algorithm?.identifier ?? algorithmIdentifier(ECDSA_OIDS.sha256), tlv(0x03, Buffer.of(0), signature));
      };
      const nameOf = (tag: number, text: Buffer): Buffer => tlv(0x30, tlv(0x31, tlv(0x30, oidTlv(OIDS.commonName), tlv(tag, text))));

      it('reads a UniversalString CN with astral characters as written (the library keeps only their low 16 bits)', () => {
        // X.680 41: UniversalString is UCS-4. asn1js decodes each code point with String.fromCharCode,
        // so the library says U+F98B for U+1F98B; the intended text is the reference here.
        const text = 'bug 🦋 𝔘';
        const ucs4 = Buffer.concat([...text].map((c) => Buffer.of(0, (c.codePointAt(0)! >> 16) & 0xff, (c.codePointAt(0)! >> 8) & 0xff, c.codePointAt(0)! & 0xff)));
        const der = request(nameOf(0x1c, ucs4));
        expect(parseCertificationRequest(der).commonNames).toEqual([text]);
        expect(libraryFields(der).commonNames).not.toEqual([text]);
      });

      it('reads a NumericString subject attribute (X.520 x121Address) as the library does', () => {
        const subject = tlv(0x30, tlv(0x31, tlv(0x30, oidTlv('2.5.4.24'), tlv(0x12, Buffer.from('2087 1234 5678')))), tlv(0x31, tlv(0x30, oidTlv(OIDS.commonName), tlv(0x0c, Buffer.from('x121.mayfly.test')))));
        const der = request(subject);
        expect(libraryFields(der).subjectAttributes).toEqual([{ type: '2.5.4.24', value: '2087 1234 5678' }, { type: OIDS.commonName, value: 'x121.mayfly.test' }]);
        expect(report(disagreements(der, 'a NumericString x121Address', []))).toEqual([]);
      });

      it('reads basicConstraints pathLenConstraint 2^31 (INTEGER (0..MAX), RFC 5280 4.2.1.9) as the library does', () => {
        const basicConstraints = tlv(0x30, hex('0101ff'), tlv(0x02, hex('0080000000')));
        const der = request(nameOf(0x0c, Buffer.from('ca.mayfly.test')), [tlv(0x30, oidTlv(OIDS.basicConstraints), hex('0101ff'), tlv(0x04, basicConstraints))]);
        expect(libraryFields(der).basicConstraints).toEqual({ ca: true, pathLength: 2 ** 31 });
        expect(report(disagreements(der, 'basicConstraints cA TRUE, pathLen 2^31', []))).toEqual([]);
      });

      it('reads an RSASSA-PSS signatureAlgorithm without parameters as an invalid signature (RFC 4055 3.1: MUST be present)', () => {
        const key = pool.byKind.get('rsa2048')![0];
        const der = request(nameOf(0x0c, Buffer.from('pss.mayfly.test')), [], {
          key,
          identifier: algorithmIdentifier(OIDS.rsassaPss),
          // What the absent parameters would mean if they were the DEFAULTs: SHA-1, MGF1-SHA-1, salt 20.
          sign: (info) => sign('sha1', info, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }),
        });
        expect(libraryFields(der).signatureValid).toBe(false);
        expect(report(disagreements(der, 'RSASSA-PSS with absent parameters', []))).toEqual([]);
      });

      // openssl req -verify says OK, but Node can verify PSS only with MGF1 over the message hash:
      // Mayfly refuses such a request (signatureValid false) rather than check it wrongly.
      it('refuses a PSS signature whose MGF1 hash differs from its message hash, which it cannot check', () => {
        const key = pool.byKind.get('rsa2048')![0];
        const sha256 = algorithmIdentifier('2.16.840.1.101.3.4.2.1');
        const mgf1Sha1 = algorithmIdentifier(OIDS.mgf1, algorithmIdentifier('1.3.14.3.2.26'));
        const parameters = tlv(0x30, tlv(0xa0, sha256), tlv(0xa1, mgf1Sha1), tlv(0xa2, hex('020120')));
        const der = request(nameOf(0x0c, Buffer.from('pss.mayfly.test')), [], {
          key,
          identifier: algorithmIdentifier(OIDS.rsassaPss, parameters),
          sign: (info) => signPss(key.privateKey, info, { hash: 'sha256', mgfHash: 'sha1', saltLength: 32 }, Buffer.alloc(32, 7)),
        });
        const [info, , bits] = childrenOf(der, tlvAt(der, 0));
        const signature = Buffer.from(der.subarray(bits.contentStart + 1, bits.end));
        expect(verifyPss(key.publicKey, Buffer.from(der.subarray(info.start, info.end)), signature, { hash: 'sha256', mgfHash: 'sha1', saltLength: 32 })).toBe(true);
        expect(parseCertificationRequest(der).signatureValid).toBe(false);
        expect(report(disagreements(der, 'RSASSA-PSS, SHA-256 with MGF1-SHA-1, salt 32', []))).toEqual([]);
      });

      it('reads a PSS signature made with MGF1-SHA-256 under parameters that name MGF1-SHA-1 as invalid (RFC 4055 3.1)', () => {
        // hashAlgorithm SHA-256 and nothing else: maskGenAlgorithm keeps its DEFAULT, MGF1 with SHA-1, and
        // saltLength its DEFAULT, 20. The signature below uses MGF1-SHA-256, so it is not one under these parameters.
        const key = pool.byKind.get('rsa2048')![0];
        const parameters = tlv(0x30, tlv(0xa0, algorithmIdentifier('2.16.840.1.101.3.4.2.1')));
        const der = request(nameOf(0x0c, Buffer.from('pss.mayfly.test')), [], {
          key,
          identifier: algorithmIdentifier(OIDS.rsassaPss, parameters),
          sign: (info) => sign('sha256', info, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }),
        });
        expect(libraryFields(der).signatureValid).toBe(false);
        expect(report(disagreements(der, 'RSASSA-PSS, SHA-256 with MGF1-SHA-256, labelled with MGF1 left at its SHA-1 default', []))).toEqual([]);
      });
    });
  });
}
