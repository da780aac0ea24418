import { hash } from 'node:crypto';
import { readDer } from '../der';

/** RFC 5280 4.2.1.2 method (1): the SHA-1 of the subjectPublicKey BIT STRING of a SubjectPublicKeyInfo. */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  return hash('sha1', readDer(spki).children()[1].bitString(), 'buffer');
}
