import 'reflect-metadata';
import { generateKeyPair, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import { contextTag, encode, encodeBoolean, encodeNamedBits, encodeOctetString, encodeOid, encodeUnsignedInteger, readDer, sequence, TAG } from '../der';
import { KEY_USAGE_BITS, OID } from '../csr/oids';
import { keyIdentifier, type SigningCa } from '../signers/signing_ca';
import type { IssuedCertificate } from '../types';
import { extension, signCertificate } from './certificate';

// Creating CA certificates happens once, at `mayfly init`, so it uses @peculiar/x509's
// high-level generator rather than the hand-tuned leaf path in certificate.ts.

export const CA_KEY_TYPES = ['p256', 'p384', 'rsa2048', 'rsa3072', 'rsa4096', 'ed25519'] as const;
export type CaKeyType = (typeof CA_KEY_TYPES)[number];

type KeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm & Record<string, unknown>;
// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto is the same API.
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
const crypto = webcrypto;
const x509Crypto = webcrypto as unknown as X509Crypto;

function keyAlgorithm(type: CaKeyType): { generate: Algorithm; sign: Algorithm } {
  switch (type) {
    case 'p256':
      return { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
    case 'p384':
      return { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } };
    case 'ed25519':
      return { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } };
    default: {
      const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      return { generate: { ...rsa, modulusLength: Number(type.slice(3)), publicExponent: new Uint8Array([1, 0, 1]) }, sign: rsa };
    }
  }
}

export interface CaCertificate {
  /** PEM certificate. */
  readonly certificate: string;
  /** PKCS#8 PEM private key. */
  readonly privateKey: string;
  readonly fingerprintSha256: string;
}

export interface CaBootstrap {
  readonly root: CaCertificate;
  readonly intermediate: CaCertificate;
}

const YEAR_MS = 365 * 24 * 3_600_000;

/** A root (10 years) and an online issuing intermediate under it (1 year), both of `type`. */
export async function createCaHierarchy(type: CaKeyType, commonName: string, now: Date = new Date()): Promise<CaBootstrap> {
  const algorithm = keyAlgorithm(type);
  const generate = async () => (await crypto.subtle.generateKey(algorithm.generate, true, ['sign', 'verify'])) as KeyPair;
  const rootKeys = await generate();
  const intermediateKeys = await generate();
  const rootName = `CN=${commonName} Root CA`;
  const notBefore = new Date(now.getTime() - 60_000);
  const root = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
      name: rootName,
      notBefore,
      notAfter: new Date(now.getTime() + 10 * YEAR_MS),
      keys: rootKeys as never,
      signingAlgorithm: algorithm.sign,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey as never, false, x509Crypto),
      ],
    },
    x509Crypto,
  );
  const intermediate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
      subject: `CN=${commonName} Issuing CA`,
      issuer: root.subject,
      notBefore,
      notAfter: new Date(now.getTime() + YEAR_MS),
      publicKey: intermediateKeys.publicKey as never,
      signingKey: rootKeys.privateKey as never,
      signingAlgorithm: algorithm.sign,
      extensions: [
        // pathLen 0: the online CA issues leaves only.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey as never, false, x509Crypto),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey as never, false, x509Crypto),
      ],
    },
    x509Crypto,
  );
  const describe = async (certificate: x509.X509Certificate, keys: KeyPair): Promise<CaCertificate> => ({
    certificate: certificate.toString('pem') + '\n',
    privateKey: x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') + '\n',
    fingerprintSha256: Buffer.from(await certificate.getThumbprint('SHA-256', x509Crypto)).toString('hex'),
  });
  return { root: await describe(root, rootKeys), intermediate: await describe(intermediate, intermediateKeys) };
}

// Rotation (`mayfly ca rotate`): a new issuing intermediate under the root `mayfly init` made, for a
// key made here or inside a token. Certificates are built with the same DER code as leaves.

/** The CA key type of a public key, or undefined when Mayfly cannot make one like it. */
export function caKeyTypeOf(key: KeyObject): CaKeyType | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec') return ({ prime256v1: 'p256', secp384r1: 'p384' } as const)[details.namedCurve as 'prime256v1' | 'secp384r1'];
  if (key.asymmetricKeyType === 'rsa') return CA_KEY_TYPES.find((type) => type === `rsa${details.modulusLength}`);
  return undefined;
}

/** A new CA key: PKCS#8 PEM (encrypted with AES-256-CBC when a passphrase is given) and its SPKI, DER. */
export async function generateCaKey(type: CaKeyType, passphrase?: string): Promise<{ privateKeyPem: string; spki: Uint8Array }> {
  const generate = promisify(generateKeyPair);
  const keys =
    type === 'ed25519'
      ? await generate('ed25519')
      : type.startsWith('p')
        ? await generate('ec', { namedCurve: type === 'p256' ? 'P-256' : 'P-384' })
        : await generate('rsa', { modulusLength: Number(type.slice(3)), publicExponent: 65537 });
  const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem', ...(passphrase ? { cipher: 'aes-256-cbc', passphrase } : {}) }).toString();
  return { privateKeyPem, spki: keys.publicKey.export({ type: 'spki', format: 'der' }) };
}

/**
 * `name` with its commonName's value replaced by `commonName` (as a UTF8String); every other
 * attribute is kept byte for byte. A Name without a commonName gets one appended.
 */
export function withCommonName(name: Uint8Array, commonName: string): Uint8Array {
  const attribute = sequence(encodeOid(OID.commonName), encode(TAG.UTF8_STRING, Buffer.from(commonName, 'utf8')));
  const rdns = readDer(name).expect(TAG.SEQUENCE, 'Name').children();
  const isCommonName = (rdn: (typeof rdns)[number]) => rdn.children().some((typeAndValue) => typeAndValue.children()[0].oid() === OID.commonName);
  if (!rdns.some(isCommonName)) return sequence(...rdns.map((rdn) => rdn.encoded), encode(TAG.SET, attribute));
  return sequence(...rdns.map((rdn) => (isCommonName(rdn) ? encode(TAG.SET, attribute) : rdn.encoded)));
}

const CLOCK_SKEW_MS = 60_000;

/**
 * RFC 5280 4.2.1.9: an issuing CA certificate for `spki`, issued by `root` — basicConstraints CA
 * with pathLen 0 (it issues leaves only), keyCertSign and cRLSign, its SKI, and the root's SKI as
 * AKI. It ends at most when the root does.
 */
export function issueIntermediateCertificate(root: SigningCa, spki: Uint8Array, subject: Uint8Array, validityMs: number, now: Date = new Date()): Promise<IssuedCertificate> {
  const issuedAt = Math.floor(now.getTime() / 1000) * 1000;
  return signCertificate(
    {
      issuer: root.subject,
      subject,
      spki,
      notBefore: new Date(issuedAt - CLOCK_SKEW_MS),
      notAfter: new Date(Math.min(issuedAt + validityMs, root.notAfter.getTime())),
      extensions: [
        extension(OID.basicConstraints, true, sequence(encodeBoolean(true), encodeUnsignedInteger(Uint8Array.of(0)))),
        extension(OID.keyUsage, true, encodeNamedBits([KEY_USAGE_BITS.indexOf('keyCertSign'), KEY_USAGE_BITS.indexOf('cRLSign')])),
        extension(OID.subjectKeyIdentifier, false, encodeOctetString(keyIdentifier(spki))),
        extension(OID.authorityKeyIdentifier, false, sequence(encode(contextTag(0, false), root.subjectKeyIdentifier))),
      ],
    },
    root.signer,
  );
}
