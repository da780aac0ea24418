import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ClientUsageError } from './errors';
import { canonicalSpki, type ClientKeyPair } from './key_pair';
import { subjectAltNameExtension, type RequestedNames } from './requested_names';

const SUBJECT_ALT_NAME = '2.5.29.17';

// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto is the same API.
type X509Crypto = NonNullable<Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1]>;

/** A CSR ready to send: what it asks for, and the key the answer must be for. */
export interface CertificationRequest {
  readonly pem: string;
  /** SubjectPublicKeyInfo, DER, in Node's canonical form. */
  readonly spki: Buffer;
  readonly names: RequestedNames;
}

/**
 * A PKCS#10 request (RFC 2986) for `names`, signed with the key (the proof of possession the
 * server checks). The subject is given as a structured name, so a CN with `,` or `+` stays one value.
 */
export async function buildCertificationRequest(keyPair: ClientKeyPair, names: RequestedNames): Promise<CertificationRequest> {
  const san = subjectAltNameExtension(names);
  const request = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: [{ CN: [names.commonName] }],
      keys: keyPair.keys as never,
      signingAlgorithm: keyPair.signingAlgorithm,
      extensions: san ? [san] : [],
    },
    webcrypto as unknown as X509Crypto,
  );
  return { pem: request.toString('pem') + '\n', spki: keyPair.spki, names };
}

/**
 * A CSR the user brought (`--csr FILE`, PEM or DER), sent as it is. Its names are what the answer
 * must carry; the server checks its signature, as it checks every CSR.
 */
export function readCertificationRequest(bytes: Buffer, origin: string): CertificationRequest {
  let request: x509.Pkcs10CertificateRequest;
  try {
    const text = bytes.toString('latin1');
    request = new x509.Pkcs10CertificateRequest(text.includes('-----BEGIN') ? text : bytes);
  } catch {
    throw new ClientUsageError(`${origin} is not a PKCS#10 certificate request (PEM or DER)`);
  }
  const [commonName] = request.subjectName.getField('CN');
  if (!commonName) throw new ClientUsageError(`${origin} has no common name (CN) in its subject`);
  const extension = request.getExtension(SUBJECT_ALT_NAME);
  const items = extension ? new x509.SubjectAlternativeNameExtension(extension.rawData).names.items : [];
  return {
    pem: request.toString('pem') + '\n',
    spki: canonicalSpki(request.publicKey.rawData),
    names: { commonName, dnsNames: items.filter((item) => item.type === 'dns').map((item) => item.value), ipAddresses: items.filter((item) => item.type === 'ip').map((item) => item.value) },
  };
}
