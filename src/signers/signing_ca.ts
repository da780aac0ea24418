import { X509Certificate } from 'node:crypto';
import { keyIdentifier } from '../x509/key_identifier';
import { readFile } from 'node:fs/promises';
import { contextTag, readDer, TAG } from '../der';
import { SignerConfigError, type Signer } from './signer';
import { pemCertificateBlocks } from '../pem';

const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

/** An issuing CA: its signer and the certificate facts every issued certificate refers to. */
export interface SigningCa {
  readonly name: string;
  readonly signer: Signer;
  /** DER certificates, the issuing certificate first, then up the chain. */
  readonly chain: readonly Uint8Array[];
  /** The chain as PEM, issuing certificate first, ready to serve. */
  readonly chainPem: string;
  /** The same certificates as PEM one by one, as JSON answers list them. */
  readonly chainPems: readonly string[];
  /** The issuing certificate's subject Name, DER: the issuer of what it signs. */
  readonly subject: Uint8Array;
  /** RFC 5280 4.2.1.2: its subjectKeyIdentifier, which becomes the issued certificate's AKI. */
  readonly subjectKeyIdentifier: Uint8Array;
  /** The issuing certificate's validity: a leaf lies within it (RFC 5280 6.1.3 (a)(2)). */
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * The chains this CA signed with before a rotation (`previous_certs`), newest first: served beside
   * the chain and trusted for mTLS renewal during the overlap, never used to sign.
   */
  readonly previousChains: readonly PreviousChain[];
  /** What GET /v1/ca serves as PEM: the chain, then each previous chain's certificates not already in it. */
  readonly servedChainPem: string;
}

/** An issuing chain from before a rotation, still served and trusted until its certificates have expired. */
export interface PreviousChain {
  readonly file: string;
  /** DER certificates, the issuing certificate first. */
  readonly chain: readonly Uint8Array[];
  /** The same certificates as PEM, one block each. */
  readonly pems: readonly string[];
}

/** Reads a PEM chain file: one or more certificates, the first a CA, each issued by the one after it. */
export async function readCertificateChain(certFile: string): Promise<X509Certificate[]> {
  const pem = await readFile(certFile, 'utf8').catch(() => {
    throw new SignerConfigError(`the certificate file ${certFile} cannot be read`);
  });
  const blocks = pemCertificateBlocks(pem);
  if (blocks.length === 0) throw new SignerConfigError(`${certFile} holds no PEM certificate`);
  const certificates = blocks.map((block) => new X509Certificate(block));
  if (!certificates[0].ca) throw new SignerConfigError(`the first certificate in ${certFile} is not a CA certificate`);
  for (let i = 0; i + 1 < certificates.length; i++) {
    if (!certificates[i].checkIssued(certificates[i + 1]) || !certificates[i].verify(certificates[i + 1].publicKey)) {
      throw new SignerConfigError(`certificate ${i + 1} in ${certFile} is not issued by the one after it; order the chain issuing certificate first`);
    }
  }
  return certificates;
}

/**
 * Reads a chain listed in `previous_certs`. One whose issuing certificate has expired is left out
 * (undefined): nothing it issued can still be valid, since a leaf never outlives its issuer.
 */
export async function loadPreviousChain(certFile: string, now: Date = new Date()): Promise<PreviousChain | undefined> {
  const certificates = await readCertificateChain(certFile);
  if (Date.parse(certificates[0].validTo) <= now.getTime()) return undefined;
  return { file: certFile, chain: certificates.map((c) => new Uint8Array(c.raw)), pems: certificates.map((c) => c.toString()) };
}

/**
 * Reads a PEM chain file (issuing certificate first), opens its signer (which may use the
 * certificate's public key to check the key it holds) and checks that the signer holds its key.
 * `previousChains` (from `previous_certs`) are kept beside it, to be served and trusted, not to sign.
 */
export async function loadSigningCa(
  name: string,
  certFile: string,
  openSigner: (issuing: X509Certificate) => Promise<Signer>,
  previousChains: readonly PreviousChain[] = [],
): Promise<SigningCa> {
  const certificates = await readCertificateChain(certFile);
  const issuing = certificates[0];
  if (new Date(issuing.validTo).getTime() <= Date.now()) throw new SignerConfigError(`the issuing certificate in ${certFile} expired on ${new Date(issuing.validTo).toISOString()}; rotate it`);
  const previousSame = previousChains.find((previous) => Buffer.from(previous.chain[0]).equals(issuing.raw));
  if (previousSame) throw new SignerConfigError(`previous_certs lists ${previousSame.file}, which holds the current issuing certificate; list only certificates it replaced`);
  const signer = await openSigner(issuing);
  const issuingSpki = issuing.publicKey.export({ format: 'der', type: 'spki' });
  if (!issuingSpki.equals(signer.publicKey)) {
    signer.release?.();
    throw new SignerConfigError(`the key (${signer.description}) does not match the certificate in ${certFile}`);
  }
  const { subject, subjectKeyIdentifier } = readIssuerFields(issuing.raw);
  const pems = certificates.map((c) => c.toString());
  // Each certificate once: the chains of a rotation share their root.
  const served = new Set([...pems, ...previousChains.flatMap((previous) => previous.pems)]);
  return {
    name,
    signer,
    chain: certificates.map((c) => new Uint8Array(c.raw)),
    chainPem: pems.join(''),
    chainPems: pems,
    subject,
    subjectKeyIdentifier,
    notBefore: new Date(issuing.validFrom),
    notAfter: new Date(issuing.validTo),
    previousChains,
    servedChainPem: [...served].join(''),
  };
}

// RFC 5280 4.1: the raw subject (Node's X509Certificate gives only text) and the SKI.
export function readIssuerFields(der: Uint8Array): { subject: Uint8Array; subjectKeyIdentifier: Uint8Array } {
  const tbs = readDer(der).children()[0].children();
  const fields = tbs[0].tag === contextTag(0, true) ? tbs.slice(1) : tbs;
  const [, , , , subject, spki, ...optional] = fields;
  const extensions = optional.find((field) => field.tag === contextTag(3, true));
  for (const extension of extensions?.inner().children() ?? []) {
    const parts = extension.children();
    if (parts[0].oid() === SUBJECT_KEY_IDENTIFIER) {
      return { subject: subject.encoded, subjectKeyIdentifier: parts[parts.length - 1].inner().expect(TAG.OCTET_STRING, 'subjectKeyIdentifier').content };
    }
  }
  return { subject: subject.encoded, subjectKeyIdentifier: keyIdentifier(spki.encoded) };
}

