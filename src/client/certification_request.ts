import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { ClientKeyPair } from './key_pair';
import { subjectAltNameExtension, type RequestedNames } from './requested_names';

// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto is the same API.
type X509Crypto = NonNullable<Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1]>;

/**
 * A PKCS#10 request (RFC 2986) for `names`, signed with the new key (the proof of possession the
 * server checks). The subject is given as a structured name, so a CN with `,` or `+` stays one value.
 */
export async function buildCertificationRequest(keyPair: ClientKeyPair, names: RequestedNames): Promise<string> {
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
  return request.toString('pem') + '\n';
}
