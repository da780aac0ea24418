import { contextTag, encode, encodeBoolean, encodeNamedBits, encodeOctetString, encodeOid, encodeUnsignedInteger, sequence } from '../der';
import { keyIdentifier } from './key_identifier';
import { KEY_USAGE_BITS, OID } from './oids';

/** RFC 5280 4.1: Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue } */
export function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(encodeOid(oid), encodeBoolean(true), encodeOctetString(value)) : sequence(encodeOid(oid), encodeOctetString(value));
}

/**
 * What a CA certificate is: a root may certify further CAs (no pathLenConstraint, so `mayfly ca
 * rotate` can add issuing CAs under it); an issuing CA — the one that signs leaves, under a root, in a
 * token, or asked of an external root — certifies leaves only (pathLenConstraint 0).
 */
export type CaRole = 'root' | 'issuing';

/**
 * The extensions of every CA certificate Mayfly makes or asks for, in one place: RFC 5280 4.2.1.9
 * basicConstraints critical with cA TRUE (and pathLen 0 for an issuing CA), 4.2.1.3 keyUsage critical
 * keyCertSign and cRLSign, 4.2.1.2 its key identifier, and 4.2.1.1 the issuer's when another CA signs it.
 */
export function caExtensions(spki: Uint8Array, role: CaRole, issuerKeyIdentifier?: Uint8Array): Uint8Array[] {
  const basicConstraints = role === 'root' ? sequence(encodeBoolean(true)) : sequence(encodeBoolean(true), encodeUnsignedInteger(Uint8Array.of(0)));
  return [
    extension(OID.basicConstraints, true, basicConstraints),
    extension(OID.keyUsage, true, encodeNamedBits([KEY_USAGE_BITS.indexOf('keyCertSign'), KEY_USAGE_BITS.indexOf('cRLSign')])),
    extension(OID.subjectKeyIdentifier, false, encodeOctetString(keyIdentifier(spki))),
    ...(issuerKeyIdentifier ? [extension(OID.authorityKeyIdentifier, false, sequence(encode(contextTag(0, false), issuerKeyIdentifier)))] : []),
  ];
}
