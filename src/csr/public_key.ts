import { createPublicKey, type KeyObject } from 'node:crypto';
import { encodeBitString, sequence, TAG, type DerNode } from '../der';
import type { SubjectPublicKey } from '../types';
import { fieldOctets, NAMED_CURVES, readEcPoint } from './ec_point';
import { checkEdwardsPoint, EDWARDS_CURVES } from './edwards_point';
import { CsrParseError } from './errors';
import { readRsaPublicKey } from './rsa_public_key';

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/** Key algorithms a CSR may name that cannot sign it, so cannot prove possession (RFC 2986 3). */
const NON_SIGNING_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.10046.2.1': 'Diffie-Hellman',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
};

const NULL = Uint8Array.of(TAG.NULL, 0);
const malformed = () => new CsrParseError("the CSR's public key is of an unknown type or malformed");

/**
 * RFC 5280 4.1.2.7 SubjectPublicKeyInfo → the key every later stage reads. Each key is checked here,
 * before anything hands it to OpenSSL: some keys OpenSSL imports and then aborts the whole process on
 * (the EC point at infinity, when its details are read), some make a signature anyone can forge
 * (RSA e = 1, an Ed25519 point of small order). `spki` is the one canonical encoding of the key —
 * what the certificate carries, the ledger fingerprints and the deny list matches.
 */
export function importPublicKey(spkiNode: DerNode): SubjectPublicKey {
  // RFC 5280 4.1: SEQUENCE { algorithm, subjectPublicKey } and nothing more; every key type's
  // subjectPublicKey is whole octets (RFC 5480 2.2, RFC 3279 2.3.1, RFC 8410 4).
  const [algorithm, subjectPublicKey, ...extra] = spkiNode.children();
  if (algorithm?.tag !== TAG.SEQUENCE || subjectPublicKey?.tag !== TAG.BIT_STRING || subjectPublicKey.content[0] !== 0 || extra.length > 0) throw malformed();
  const [algorithmOid, parameters, ...more] = algorithm.children();
  if (algorithmOid?.tag !== TAG.OID || more.length > 0) throw malformed();
  const oid = algorithmOid.oid();
  const key = subjectPublicKey.bitString();
  const spki = spkiNode.encoded;
  if (oid === EC_PUBLIC_KEY) return ecPublicKey(spki, algorithm, parameters, key);
  if (oid === RSA_ENCRYPTION || oid === RSASSA_PSS) {
    // RFC 3279 2.3.1: rsaEncryption parameters MUST be NULL. RFC 4055 3.1: RSASSA-PSS's are absent or RSASSA-PSS-params.
    const parametersValid = oid === RSA_ENCRYPTION ? parameters !== undefined && Buffer.compare(parameters.encoded, NULL) === 0 : parameters === undefined || parameters.tag === TAG.SEQUENCE;
    if (!parametersValid) throw new CsrParseError(`the parameters of the CSR's ${oid === RSA_ENCRYPTION ? 'rsaEncryption' : 'RSASSA-PSS'} public key are malformed`);
    const { bits, exponent } = readRsaPublicKey(key);
    return { type: oid === RSA_ENCRYPTION ? 'RSA' : 'RSA-PSS', bits, exponent, spki, keyObject: importSpki(spki) };
  }
  const edwards = EDWARDS_CURVES[oid];
  if (edwards) {
    // RFC 8410 3: the parameters MUST be absent.
    if (parameters !== undefined) throw new CsrParseError(`the CSR's ${edwards.name} public key has parameters; RFC 8410 3 says they are absent`);
    checkEdwardsPoint(edwards, key);
    return { type: edwards.name, spki, keyObject: importSpki(spki) };
  }
  const name = NON_SIGNING_ALGORITHMS[oid] ?? oid;
  throw new CsrParseError(`the CSR's public key algorithm ${name} is not supported (RSA, RSA-PSS, EC, Ed25519, Ed448)`);
}

/**
 * RFC 5480 2.1.1: an EC key's parameters name its curve (implicit and specified curves are not
 * allowed). The point is checked here (on the curve, neither the point at infinity nor compressed
 * once read), so OpenSSL imports the canonical SPKI without fail; the KeyObject is made only when a
 * stage asks for it (the ACME revocation check): the CSR's signature is verified from the point (or
 * the SPKI, without the native core), and a KeyObject is a native object that every scavenge must
 * finalize.
 */
function ecPublicKey(sent: Uint8Array, algorithm: DerNode, parameters: DerNode | undefined, point: Uint8Array): SubjectPublicKey {
  if (parameters?.tag !== TAG.OID) throw new CsrParseError("the CSR's EC public key does not name its curve (RFC 5480 2.1.1)");
  const curveOid = parameters.oid();
  const curve = NAMED_CURVES[curveOid];
  if (!curve) throw new CsrParseError(`the CSR's EC public key is on curve ${curveOid}, which Mayfly does not support (P-256, P-384, P-521, secp256k1)`);
  const { x, y } = readEcPoint(curve, point);
  const length = Math.ceil(curve.bits / 8);
  // RFC 5480 2.2: the uncompressed form, which every client reads, whatever form the CSR used.
  const uncompressed = point[0] === 0x04 ? point : Buffer.concat([Uint8Array.of(0x04), fieldOctets(x, length), fieldOctets(y, length)]);
  const spki = uncompressed === point ? sent : sequence(algorithm.encoded, encodeBitString(uncompressed));
  let keyObject: KeyObject | undefined;
  return {
    type: 'EC',
    curve: curve.name,
    bits: curve.bits,
    spki,
    point: uncompressed,
    get keyObject() {
      return (keyObject ??= importSpki(spki));
    },
  };
}

/** A key as node:crypto's verify() takes it: its SPKI, parsed inside the call. */
interface SpkiInput {
  readonly key: Buffer;
  readonly format: 'der';
  readonly type: 'spki';
}

/**
 * What the CSR's own signature is verified with: an EC key's SPKI (its KeyObject is made only when a
 * stage asks, see ecPublicKey), every other key's KeyObject, imported already to check the key.
 */
export function verificationKey(publicKey: SubjectPublicKey): { readonly key: KeyObject } | SpkiInput {
  return publicKey.type === 'EC' ? { key: Buffer.from(publicKey.spki.buffer, publicKey.spki.byteOffset, publicKey.spki.byteLength), format: 'der', type: 'spki' } : { key: publicKey.keyObject };
}

function importSpki(spki: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength), format: 'der', type: 'spki' });
  } catch {
    throw malformed();
  }
}
