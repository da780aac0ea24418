import { encode, encodeOid, sequence, TAG } from '../der';

// OpenSSL's one-line form, "/CN=Mayfly Issuing CA/O=Acme", → an RFC 5280 4.1.2.4 Name.
const ATTRIBUTES: Readonly<Record<string, { oid: string; tag: number }>> = {
  CN: { oid: '2.5.4.3', tag: TAG.UTF8_STRING },
  C: { oid: '2.5.4.6', tag: TAG.PRINTABLE_STRING }, // RFC 5280 A.1: countryName is PrintableString
  L: { oid: '2.5.4.7', tag: TAG.UTF8_STRING },
  ST: { oid: '2.5.4.8', tag: TAG.UTF8_STRING },
  O: { oid: '2.5.4.10', tag: TAG.UTF8_STRING },
  OU: { oid: '2.5.4.11', tag: TAG.UTF8_STRING },
  DC: { oid: '0.9.2342.19200300.100.1.25', tag: TAG.IA5_STRING },
};

/** Encodes "/CN=x/O=y" (backslash escapes a slash); throws on an unknown attribute or an empty value. */
export function encodeName(text: string): Uint8Array {
  if (!text.startsWith('/')) throw new Error(`a subject looks like "/CN=Mayfly Issuing CA/O=Acme", not ${JSON.stringify(text)}`);
  const parts = text.slice(1).split(/(?<!\\)\//).filter((part) => part.length > 0);
  return sequence(
    ...parts.map((part) => {
      const equals = part.indexOf('=');
      const key = part.slice(0, equals);
      const value = part.slice(equals + 1).replace(/\\\//g, '/');
      const attribute = ATTRIBUTES[key];
      if (equals < 1 || !attribute || value.length === 0) throw new Error(`unknown or empty subject attribute ${JSON.stringify(part)} (known: ${Object.keys(ATTRIBUTES).join(', ')})`);
      return encode(TAG.SET, sequence(encodeOid(attribute.oid), encode(attribute.tag, Buffer.from(value, 'utf8'))));
    }),
  );
}
