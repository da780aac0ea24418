import { createHash, createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { encode, encodeOid, readDer, sequence, TAG } from '../der';
import { certificatePem } from '../pem';
import { CA_KEY_TYPES, type CaKeyType } from './ca_key_type';
import { LocalSigner } from '../signers/local';
import type { SigningCa } from '../signers/signing_ca';
import type { IssuedCertificate } from '../types';
import { caExtensions } from '../x509/extension';
import { keyIdentifier } from '../x509/key_identifier';
import { encodeSubject } from '../x509/name';
import { OID } from '../x509/oids';
import { signCertificate } from './certificate';

// CA certificates — the development hierarchy `mayfly init` makes, and the issuing CAs of
// `mayfly ca rotate` — are built by the same DER code as leaves, with the extensions of x509/extension.

export { CA_KEY_TYPES, type CaKeyType } from './ca_key_type';

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
  const rootKey = await generateCaKey(type);
  const intermediateKey = await generateCaKey(type);
  const rootSigner = LocalSigner.fromKey(createPrivateKey(rootKey.privateKeyPem));
  const rootName = encodeSubject([{ type: OID.commonName, value: `${commonName} Root CA` }]);
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  const root = await signCertificate(
    { issuer: rootName, subject: rootName, spki: rootKey.spki, notBefore, notAfter: new Date(now.getTime() + 10 * YEAR_MS), extensions: caExtensions(rootKey.spki, 'root') },
    rootSigner,
  );
  const intermediate = await signCertificate(
    {
      issuer: rootName,
      subject: encodeSubject([{ type: OID.commonName, value: `${commonName} Issuing CA` }]),
      spki: intermediateKey.spki,
      notBefore,
      notAfter: new Date(now.getTime() + YEAR_MS),
      extensions: caExtensions(intermediateKey.spki, 'issuing', keyIdentifier(rootKey.spki)),
    },
    rootSigner,
  );
  const describe = (certificate: IssuedCertificate, key: { privateKeyPem: string }): CaCertificate => ({
    certificate: certificatePem(certificate.der),
    privateKey: key.privateKeyPem,
    fingerprintSha256: createHash('sha256').update(certificate.der).digest('hex'),
  });
  return { root: describe(root, rootKey), intermediate: describe(intermediate, intermediateKey) };
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
      extensions: caExtensions(spki, 'issuing', root.subjectKeyIdentifier),
    },
    root.signer,
  );
}
