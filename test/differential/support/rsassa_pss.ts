// RFC 8017 9.1 EMSA-PSS, written out over the raw RSA operation, for the two things Node's
// crypto.sign/verify cannot do: a mask generation hash other than the message hash (RFC 4055 3.1
// lets them differ, and defaults MGF1 to SHA-1 whatever the hash), and a verifier that reads
// every RSASSA-PSS-params field instead of Mayfly's code path.
import { constants, createHash, createPublicKey, privateEncrypt, publicEncrypt, type KeyObject } from 'node:crypto';

export interface PssParameters {
  /** Node digest names: 'sha1', 'sha256'... */
  readonly hash: string;
  readonly mgfHash: string;
  readonly saltLength: number;
}

/** RFC 8017 B.2.1 MGF1. */
function mgf1(hash: string, seed: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  let total = 0;
  for (let counter = 0; total < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    blocks.push(block);
    total += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

const xor = (a: Uint8Array, b: Uint8Array): Buffer => Buffer.from(a.map((byte, i) => byte ^ b[i]));

/** RFC 8017 9.1.1 EMSA-PSS-ENCODE. */
function encode(message: Uint8Array, emBits: number, parameters: PssParameters, salt: Uint8Array): Buffer {
  const mHash = createHash(parameters.hash).update(message).digest();
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + salt.length + 2) throw new Error('encoding error: the salt is too long for this key');
  const h = createHash(parameters.hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - salt.length - hLen - 2), Buffer.of(1), salt]);
  const maskedDb = xor(db, mgf1(parameters.mgfHash, h, emLen - hLen - 1));
  maskedDb[0] &= 0xff >> (8 * emLen - emBits);
  return Buffer.concat([maskedDb, h, Buffer.of(0xbc)]);
}

/** RFC 8017 9.1.2 EMSA-PSS-VERIFY. */
function verifyEncoding(message: Uint8Array, em: Uint8Array, emBits: number, parameters: PssParameters): boolean {
  const mHash = createHash(parameters.hash).update(message).digest();
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  const sLen = parameters.saltLength;
  if (em.length !== emLen || emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff & ~(0xff >> (8 * emLen - emBits));
  if ((maskedDb[0] & topMask) !== 0) return false;
  const db = xor(maskedDb, mgf1(parameters.mgfHash, h, emLen - hLen - 1));
  db[0] &= 0xff >> (8 * emLen - emBits);
  const separator = emLen - hLen - sLen - 2;
  for (let i = 0; i < separator; i++) if (db[i] !== 0) return false;
  if (db[separator] !== 1) return false;
  const salt = db.subarray(db.length - sLen);
  const expected = createHash(parameters.hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return expected.equals(h);
}

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (!bits) throw new Error('not an RSA key');
  return bits;
}

/** RSASSA-PSS-SIGN (RFC 8017 8.1.1) with a 'rsa' private key, by the raw private-key operation. */
export function signPss(privateKey: KeyObject, message: Uint8Array, parameters: PssParameters, salt: Uint8Array): Buffer {
  const bits = modulusBits(privateKey);
  const k = Math.ceil(bits / 8);
  const em = encode(message, bits - 1, parameters, salt);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.alloc(k - em.length), em]));
}

/**
 * RSASSA-PSS-VERIFY (RFC 8017 8.1.2). `publicKey` must be an rsaEncryption key: the raw public
 * operation is not offered for id-RSASSA-PSS keys, so callers convert those first.
 */
export function verifyPss(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array, parameters: PssParameters): boolean {
  const bits = modulusBits(publicKey);
  const k = Math.ceil(bits / 8);
  if (signature.length !== k) return false;
  let m: Buffer;
  try {
    m = publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, Buffer.from(signature));
  } catch {
    return false; // the signature representative is not below the modulus
  }
  const emBits = bits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (m.subarray(0, k - emLen).some((byte) => byte !== 0)) return false;
  return verifyEncoding(message, m.subarray(k - emLen), emBits, parameters);
}

/** The same RSA public key as an rsaEncryption SubjectPublicKeyInfo (RFC 3279 2.3.1). */
export function asRsaEncryptionKey(subjectPublicKeyBitString: Uint8Array): KeyObject {
  const header = (tag: number, length: number): Buffer =>
    length < 0x80 ? Buffer.of(tag, length) : length < 0x100 ? Buffer.of(tag, 0x81, length) : Buffer.of(tag, 0x82, length >> 8, length & 0xff);
  const algorithm = Buffer.from('300d06092a864886f70d0101010500', 'hex');
  const bitString = Buffer.concat([header(0x03, subjectPublicKeyBitString.length + 1), Buffer.of(0), subjectPublicKeyBitString]);
  const body = Buffer.concat([algorithm, bitString]);
  return createPublicKey({ key: Buffer.concat([header(0x30, body.length), body]), format: 'der', type: 'spki' });
}
