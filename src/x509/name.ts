import { encode, encodeOid, sequence, TAG } from '../der';
import type { SubjectAttribute } from '../types';

// The attribute types Mayfly writes into a Name, by OpenSSL's short name. A leaf's subject is
// re-encoded from checked values in these string types, never copied from the request.
export const NAME_ATTRIBUTES: Readonly<Record<string, { readonly oid: string; readonly tag: number }>> = {
  CN: { oid: '2.5.4.3', tag: TAG.UTF8_STRING },
  C: { oid: '2.5.4.6', tag: TAG.PRINTABLE_STRING }, // RFC 5280 A.1: countryName is PrintableString
  L: { oid: '2.5.4.7', tag: TAG.UTF8_STRING },
  ST: { oid: '2.5.4.8', tag: TAG.UTF8_STRING },
  O: { oid: '2.5.4.10', tag: TAG.UTF8_STRING },
  OU: { oid: '2.5.4.11', tag: TAG.UTF8_STRING },
  DC: { oid: '0.9.2342.19200300.100.1.25', tag: TAG.IA5_STRING },
};

const TAG_BY_OID = new Map(Object.values(NAME_ATTRIBUTES).map(({ oid, tag }) => [oid, tag]));
// X.680 41.4: PrintableString's repertoire; IA5String is ASCII.
const REPERTOIRE: Readonly<Record<number, RegExp>> = { [TAG.PRINTABLE_STRING]: /^[A-Za-z0-9 '()+,\-./:=?]*$/, [TAG.IA5_STRING]: /^[\x00-\x7f]*$/ };

/** RFC 5280 4.1.2.4: a Name of one attribute per RDN, in order; throws on a type or value Mayfly does not write. */
export function encodeSubject(attributes: readonly SubjectAttribute[]): Uint8Array {
  return sequence(
    ...attributes.map(({ type, value }) => {
      const tag = TAG_BY_OID.get(type);
      if (tag === undefined || value.length === 0 || !(REPERTOIRE[tag]?.test(value) ?? true)) throw new Error(`subject attribute ${type} ${JSON.stringify(value)} cannot be written into a name`);
      return encode(TAG.SET, sequence(encodeOid(type), encode(tag, Buffer.from(value, 'utf8'))));
    }),
  );
}

// OpenSSL's one-line form, "/CN=Mayfly Issuing CA/O=Acme", → an RFC 5280 4.1.2.4 Name.
/** Encodes "/CN=x/O=y" (backslash escapes a slash); throws on an unknown attribute or an empty value. */
export function encodeName(text: string): Uint8Array {
  if (!text.startsWith('/')) throw new Error(`a subject looks like "/CN=Mayfly Issuing CA/O=Acme", not ${JSON.stringify(text)}`);
  const parts = text.slice(1).split(/(?<!\\)\//).filter((part) => part.length > 0);
  return encodeSubject(
    parts.map((part) => {
      const equals = part.indexOf('=');
      const key = part.slice(0, equals);
      const value = part.slice(equals + 1).replace(/\\\//g, '/');
      const attribute = NAME_ATTRIBUTES[key];
      if (equals < 1 || !attribute || value.length === 0) throw new Error(`unknown or empty subject attribute ${JSON.stringify(part)} (known: ${Object.keys(NAME_ATTRIBUTES).join(', ')})`);
      return { type: attribute.oid, value };
    }),
  );
}

/** Short names of subject attribute types, as OpenSSL prints them. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** A subject as one line of text: "CN=svc.example.com, O=Acme". */
export function subjectText(attributes: readonly { readonly type: string; readonly value: string }[]): string {
  return attributes.map((attribute) => `${ATTRIBUTE_NAMES[attribute.type] ?? attribute.type}=${attribute.value}`).join(', ');
}

/**
 * The first common name in a subject as subjectText wrote it, or undefined. The text does not escape
 * ", " inside a value, so a value runs until the next ", TYPE=" or the end.
 */
export function commonNameOf(subject: string): string | undefined {
  return /(?:^|, )CN=(.*?)(?=, [A-Za-z0-9.]+=|$)/.exec(subject)?.[1];
}
