// The fuzz test's judge of what may be issued, decided without Mayfly's code: @peculiar/x509 parses
// the request and checks its self-signature (openssl when @peculiar/x509 cannot), and a strict DER
// walker written here reads the names, key and extensions. The rules are the default RA's, as the
// README states them: names under .mayfly.test, RFC 1123 host names; the CN (at most 64 characters,
// a PrintableString or UTF8String) is issued as a subjectAltName too, so it is a DNS name as well
// (an IP CN would be an iPAddress, which alternative_names refuses); EC P-256/P-384, RSA ≥ 2048 with
// e = 65537 or Ed25519, nothing a CA would have, no unknown critical extension. The certificate's
// subject is the CN alone, its dNSNames the CN and the requested names, lower case, each once.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { execFile } from 'node:child_process';
import { ECDH, X509Certificate } from 'node:crypto';
import { expectTag, oidText, strictChildren, strictRoot, tlv, type StrictTlv } from './tlv';

const OID = {
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  ed25519: '1.3.101.112',
} as const;

const UNDERSTOOD_EXTENSIONS = new Set<string>([OID.subjectAltName, OID.basicConstraints, OID.keyUsage, OID.extKeyUsage]);
const ALLOWED_DOMAIN = '.mayfly.test';

/** What the judge concluded about one CSR, and the parts a certificate for it must carry. */
export interface Judgement {
  readonly allowed: boolean;
  readonly reasons: readonly string[];
  /** The subject Name to issue, DER: the CN alone, in issued form, as a UTF8String. */
  readonly subject?: Buffer;
  /** The SubjectPublicKeyInfo, DER, in canonical form (a compressed EC point uncompressed). */
  readonly spki?: Buffer;
  /** The dNSNames to issue: the CN, then every requested one, lower case, without a trailing dot, each once. */
  readonly dnsNames: readonly string[];
  /** How the signature was checked: '@peculiar/x509' or 'openssl'. */
  readonly verifiedBy?: string;
}

/** Judges a DER CSR against the default RA's policy. Never throws. */
export async function judgeCsr(der: Buffer): Promise<Judgement> {
  const reasons: string[] = [];
  let structure: CsrStructure;
  try {
    structure = readCsr(der);
  } catch (error) {
    return { allowed: false, reasons: [`not a strict DER PKCS#10 request: ${(error as Error).message}`], dnsNames: [] };
  }
  const { subject, spki, dnsNames } = structure;
  let verifiedBy: string | undefined;
  let peculiar: x509.Pkcs10CertificateRequest | undefined;
  try {
    peculiar = new x509.Pkcs10CertificateRequest(der);
  } catch {
    // Some valid requests are beyond it (odd key parameters); openssl decides those.
  }
  let verdict: boolean | undefined;
  try {
    verdict = peculiar ? await peculiar.verify() : undefined;
  } catch {
    // An algorithm WebCrypto lacks (SHA-224, MD5...) or a key that does not fit the algorithm.
  }
  if (verdict === undefined) {
    const problem = await opensslProblem(der);
    if (problem) reasons.push(peculiar ? problem : `${problem}; @peculiar/x509 cannot parse it either`);
    verifiedBy = 'openssl';
  } else {
    if (!verdict) reasons.push('the self-signature does not verify (@peculiar/x509)');
    verifiedBy = '@peculiar/x509';
  }
  reasons.push(...structure.problems);
  return { allowed: reasons.length === 0, reasons, subject, spki, dnsNames, ...(verifiedBy ? { verifiedBy } : {}) };
}

/**
 * `openssl req -verify` on DER: why openssl refuses the request (it cannot read it, or the signature
 * does not verify), or undefined when it verifies. Asynchronous, so the server keeps serving.
 */
export function opensslProblem(der: Buffer): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['req', '-inform', 'DER', '-noout', '-verify'], (error, _stdout, stderr) => {
      const text = String(stderr);
      if (!error && /verify OK/i.test(text) && !/fail/i.test(text)) return resolve(undefined);
      const detail = (/error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/.exec(text)?.[1] ?? text.split('\n')[0]).trim();
      resolve(/Unable to load/i.test(text) ? `openssl cannot read the request (${detail})` : `the self-signature does not verify (openssl: ${detail})`);
    });
    child.stdin?.end(der);
  });
}

interface CsrStructure {
  readonly subject: Buffer;
  readonly spki: Buffer;
  readonly dnsNames: string[];
  readonly problems: string[];
}

// RFC 2986 4.
function readCsr(der: Buffer): CsrStructure {
  const problems: string[] = [];
  const parts = strictChildren(expectTag(strictRoot(der), 0x30, 'CertificationRequest'));
  if (parts.length !== 3) throw new Error(`CertificationRequest has ${parts.length} parts`);
  // RFC 5280 4.1.1.2: AlgorithmIdentifier ::= SEQUENCE { algorithm, parameters ANY OPTIONAL }
  const algorithm = strictChildren(expectTag(parts[1], 0x30, 'signatureAlgorithm'));
  if (algorithm.length < 1 || algorithm.length > 2) throw new Error(`the signatureAlgorithm has ${algorithm.length} fields`);
  oidText(algorithm[0]);
  if (algorithm[1]?.tag === 0x05 && algorithm[1].content.length > 0) throw new Error('a NULL parameter with contents');
  const signature = expectTag(parts[2], 0x03, 'signature').content;
  if (signature.length === 0 || signature[0] !== 0) throw new Error('a signature BIT STRING with unused bits');
  const fields = strictChildren(expectTag(parts[0], 0x30, 'certificationRequestInfo'));
  if (fields.length < 3 || fields.length > 4) throw new Error(`certificationRequestInfo has ${fields.length} fields`);
  const [version, subject, spki, attributes] = fields;
  if (expectTag(version, 0x02, 'version').content.toString('hex') !== '00') problems.push('the version is not 0');
  const subjectInfo = readSubject(expectTag(subject, 0x30, 'subject'));
  problems.push(...subjectInfo.problems);
  problems.push(...keyProblems(expectTag(spki, 0x30, 'subjectPublicKeyInfo')));
  const extensions = attributes ? requestedExtensions(expectTag(attributes, 0xa0, 'attributes')) : [];
  const dnsNames: string[] = [];
  for (const extension of extensions) {
    if (extension.critical && !UNDERSTOOD_EXTENSIONS.has(extension.oid)) problems.push(`unknown extension ${extension.oid} is critical`);
    try {
      if (extension.oid === OID.subjectAltName) {
        const names = readSubjectAltName(extension.value);
        dnsNames.push(...names.dnsNames);
        problems.push(...names.problems);
      } else if (extension.oid === OID.basicConstraints) {
        problems.push(...basicConstraintsProblems(extension.value));
      } else if (extension.oid === OID.keyUsage) {
        problems.push(...keyUsageProblems(extension.value));
      }
    } catch (error) {
      problems.push(`extension ${extension.oid} is malformed: ${(error as Error).message}`);
    }
  }
  for (const name of dnsNames) {
    const problem = dnsNameProblem(name);
    if (problem) problems.push(`subjectAltName dNSName ${JSON.stringify(name)}: ${problem}`);
  }
  if (subjectInfo.commonNames.length > 1) problems.push(`${subjectInfo.commonNames.length} common names`);
  for (const cn of subjectInfo.commonNames) {
    const problem = commonNameProblem(cn);
    if (problem) problems.push(`common name ${JSON.stringify(cn)}: ${problem}`);
  }
  if (subjectInfo.commonNames.length === 0 && dnsNames.length === 0) problems.push('neither a common name nor a dNSName');
  const issuedForm = (name: string) => name.toLowerCase().replace(/\.$/, '');
  const commonName = subjectInfo.commonNames.slice(0, 1).map(issuedForm);
  return { subject: issuedSubject(commonName[0]), spki: canonicalSpki(spki), dnsNames: [...new Set([...commonName, ...dnsNames.map(issuedForm)])], problems };
}

/** RFC 5280 4.1.2.4: the Name of one CN as a UTF8String (at most 64 characters, so short lengths), or the empty Name. */
function issuedSubject(commonName: string | undefined): Buffer {
  if (commonName === undefined) return Buffer.of(0x30, 0x00);
  const value = Buffer.from(commonName, 'utf8');
  const attribute = Buffer.concat([Buffer.of(0x30, 7 + value.length, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, value.length), value]);
  const rdn = Buffer.concat([Buffer.of(0x31, attribute.length), attribute]);
  return Buffer.concat([Buffer.of(0x30, rdn.length), rdn]);
}

const NODE_CURVES: Readonly<Record<string, string>> = { [OID.p256]: 'prime256v1', [OID.p384]: 'secp384r1', '1.3.132.0.35': 'secp521r1', '1.3.132.0.10': 'secp256k1' };

/**
 * The SPKI a certificate must carry for this key: as sent, except that a compressed EC point is
 * uncompressed (RFC 5480 2.2), here by OpenSSL's ECDH.convertKey rather than Mayfly's code.
 */
export function canonicalSpki(spki: StrictTlv): Buffer {
  try {
    const [algorithm, key] = strictChildren(spki);
    const [oid, curve] = strictChildren(algorithm);
    const point = key.content.subarray(1);
    const name = oidText(oid) === OID.ecPublicKey && curve?.tag === 0x06 ? NODE_CURVES[oidText(curve)] : undefined;
    if (!name || (point[0] !== 0x02 && point[0] !== 0x03)) return spki.encoded;
    const uncompressed = ECDH.convertKey(point, name, undefined, undefined, 'uncompressed') as Buffer;
    return tlv(0x30, algorithm.encoded, tlv(0x03, Buffer.of(0), uncompressed));
  } catch {
    return spki.encoded;
  }
}

// RFC 5280 4.1.2.4: Name ::= SEQUENCE OF SET OF AttributeTypeAndValue
function readSubject(name: StrictTlv): { commonNames: string[]; problems: string[] } {
  const commonNames: string[] = [];
  const problems: string[] = [];
  for (const rdn of strictChildren(name)) {
    for (const attribute of strictChildren(expectTag(rdn, 0x31, 'RDN'))) {
      const [type, value, ...extra] = strictChildren(expectTag(attribute, 0x30, 'AttributeTypeAndValue'));
      if (!value || extra.length > 0) throw new Error('malformed AttributeTypeAndValue');
      if (oidText(type) !== OID.commonName) continue;
      const text = directoryString(value);
      if (text === undefined) problems.push(`a common name of tag 0x${value.tag.toString(16)} that is not a readable string`);
      else commonNames.push(text);
      // RFC 5280 4.1.2.6 / CA/B BR 7.1.4.2: a CN only as a PrintableString or UTF8String; ub-common-name 64.
      if (value.tag !== 0x0c && value.tag !== 0x13) problems.push(`a common name of tag 0x${value.tag.toString(16)} (only PrintableString and UTF8String)`);
      if (text !== undefined && [...text].length > 64) problems.push('a common name over 64 characters');
    }
  }
  return { commonNames, problems };
}

/** The text of a DirectoryString (or IA5/Visible), or undefined when it cannot be read as text. */
function directoryString(node: StrictTlv): string | undefined {
  const bytes = node.content;
  switch (node.tag) {
    case 0x0c: // UTF8String
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        return undefined;
      }
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
    case 0x14: // TeletexString: only its ASCII subset is read the same by everyone
      return [...bytes].every((b) => b < 0x80) ? bytes.toString('latin1') : undefined;
    case 0x1e: // BMPString, UTF-16BE
      if (bytes.length % 2 !== 0) return undefined;
      return Buffer.from(bytes).swap16().toString('utf16le');
    case 0x1c: { // UniversalString, UTF-32BE
      if (bytes.length % 4 !== 0) return undefined;
      let text = '';
      for (let i = 0; i < bytes.length; i += 4) {
        const code = bytes.readUInt32BE(i);
        if (code > 0x10ffff) return undefined;
        text += String.fromCodePoint(code);
      }
      return text;
    }
    default:
      return undefined;
  }
}

/** Why the default RA's public_key validator (P-256/P-384, RSA ≥ 2048 with e = 65537, Ed25519) refuses this key. */
export function keyProblems(spki: StrictTlv): string[] {
  const [algorithm, key, ...extra] = strictChildren(spki);
  if (!key || extra.length > 0) return ['a malformed SubjectPublicKeyInfo'];
  const [oid, parameters] = strictChildren(expectTag(algorithm, 0x30, 'AlgorithmIdentifier'));
  const type = oidText(oid);
  const bits = expectTag(key, 0x03, 'subjectPublicKey').content;
  if (bits[0] !== 0) return ['a subjectPublicKey with unused bits'];
  const keyBytes = bits.subarray(1);
  switch (type) {
    case OID.rsaEncryption: {
      const [modulus, exponent, ...rest] = strictChildren(expectTag(strictRoot(Buffer.from(keyBytes)), 0x30, 'RSAPublicKey'));
      if (!exponent || rest.length > 0) return ['a malformed RSAPublicKey'];
      const n = BigInt(`0x${expectTag(modulus, 0x02, 'modulus').content.toString('hex') || '0'}`);
      const e = BigInt(`0x${expectTag(exponent, 0x02, 'publicExponent').content.toString('hex') || '0'}`);
      const problems: string[] = [];
      if (n.toString(2).length < 2048) problems.push(`RSA modulus of ${n.toString(2).length} bits`);
      if (e !== 65537n) problems.push(`RSA exponent ${e}`);
      return problems;
    }
    case OID.ecPublicKey: {
      const curve = parameters && parameters.tag === 0x06 ? oidText(parameters) : undefined;
      const coordinate = curve === OID.p256 ? 32 : curve === OID.p384 ? 48 : undefined;
      if (!coordinate) return [`EC curve ${curve ?? '(not a named curve)'}`];
      // RFC 5480 2.2: uncompressed (04) or compressed (02/03); never infinity or hybrid (06/07).
      const form = keyBytes[0];
      if (form === 0x04) return keyBytes.length === 1 + 2 * coordinate ? [] : ['an uncompressed point of the wrong size'];
      if (form === 0x02 || form === 0x03) return keyBytes.length === 1 + coordinate ? [] : ['a compressed point of the wrong size'];
      return [`EC point form ${form}`];
    }
    case OID.ed25519:
      return parameters === undefined && keyBytes.length === 32 ? [] : ['a malformed Ed25519 key'];
    default:
      return [`key algorithm ${type}`];
  }
}

interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Buffer;
}

// RFC 2986 4.1 attributes, PKCS#9 extensionRequest: every one, every value.
function requestedExtensions(attributes: StrictTlv): Extension[] {
  const out: Extension[] = [];
  for (const attribute of strictChildren(attributes)) {
    const [type, values, ...extra] = strictChildren(expectTag(attribute, 0x30, 'Attribute'));
    if (!values || extra.length > 0) throw new Error('malformed Attribute');
    if (oidText(type) !== OID.extensionRequest) continue;
    for (const value of strictChildren(expectTag(values, 0x31, 'attribute values'))) {
      for (const extension of strictChildren(expectTag(value, 0x30, 'Extensions'))) {
        const fields = strictChildren(expectTag(extension, 0x30, 'Extension'));
        if (fields.length < 2 || fields.length > 3) throw new Error('malformed Extension');
        let critical = false;
        if (fields.length === 3) {
          const flag = expectTag(fields[1], 0x01, 'critical').content;
          if (flag.length !== 1 || (flag[0] !== 0 && flag[0] !== 0xff)) throw new Error('a critical flag that is not a DER BOOLEAN');
          critical = flag[0] === 0xff;
        }
        out.push({ oid: oidText(fields[0]), critical, value: expectTag(fields[fields.length - 1], 0x04, 'extnValue').content });
      }
    }
  }
  return out;
}

// RFC 5280 4.2.1.6
function readSubjectAltName(value: Buffer): { dnsNames: string[]; problems: string[] } {
  const dnsNames: string[] = [];
  const problems: string[] = [];
  for (const name of strictChildren(expectTag(strictRoot(value), 0x30, 'GeneralNames'))) {
    if (name.tag === 0x82) dnsNames.push(name.content.toString('latin1'));
    else problems.push(`a subjectAltName of tag 0x${name.tag.toString(16)} (only dNSName is allowed)`);
  }
  return { dnsNames, problems };
}

// RFC 5280 4.2.1.9
function basicConstraintsProblems(value: Buffer): string[] {
  const problems: string[] = [];
  for (const field of strictChildren(expectTag(strictRoot(value), 0x30, 'BasicConstraints'))) {
    if (field.tag === 0x01) {
      if (field.content.length !== 1 || field.content[0] !== 0) problems.push('CA:TRUE (or a cA flag that is not FALSE)');
    } else {
      problems.push('a pathLenConstraint (or another field in basicConstraints)');
    }
  }
  return problems;
}

// RFC 5280 4.2.1.3: bit 5 keyCertSign, bit 6 cRLSign.
function keyUsageProblems(value: Buffer): string[] {
  const bits = expectTag(strictRoot(value), 0x03, 'KeyUsage').content;
  if (bits.length === 0) throw new Error('empty BIT STRING');
  const set = (bit: number) => bit >> 3 < bits.length - 1 && (bits[1 + (bit >> 3)] & (0x80 >> (bit & 7))) !== 0;
  return [...(set(5) ? ['keyCertSign'] : []), ...(set(6) ? ['cRLSign'] : [])];
}

/** Why a DNS name is not allowed under .mayfly.test, or undefined when it is. */
export function dnsNameProblem(raw: string): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(raw)) return 'not printable ASCII';
  let name = raw.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length > 253) return 'longer than 253';
  const labels = name.split('.');
  if (labels.some((label) => label.length === 0 || label.length > 63)) return 'an empty or over-long label';
  // RFC 1123 2.1: letters, digits and inner hyphens; no underscores unless the RA allows them.
  if (labels.some((label) => !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(label))) return 'a label that is not letters, digits and inner hyphens (wildcards are not allowed)';
  if (!name.endsWith(ALLOWED_DOMAIN) || labels.length < 3) return `not under ${ALLOWED_DOMAIN}`;
  return undefined;
}

/** Why a common name is not allowed: an IP must be in 127.0.0.0/8; anything else is a DNS name. */
export function commonNameProblem(cn: string): string | undefined {
  const address = ipAddressBytes(cn);
  // Issued as an iPAddress subjectAltName, which the default RA's alternative_names refuses.
  if (address) return 'an IP address, which the default RA issues only as an iPAddress subjectAltName and does not allow';
  return dnsNameProblem(cn);
}

/** An IP address's octets (IPv4-mapped IPv6 as its IPv4 octets), or undefined when `text` is not one. */
export function ipAddressBytes(text: string): Buffer | undefined {
  const v4 = ipv4Bytes(text);
  if (v4) return v4;
  const v6 = ipv6Bytes(text);
  if (!v6) return undefined;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.subarray(12) : v6;
}

function ipv4Bytes(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return Buffer.from(parts.map(Number));
}

function ipv6Bytes(text: string): Buffer | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined;
  let tail: Buffer | undefined;
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = ipv4Bytes(text.slice(lastColon + 1));
    if (!tail) return undefined;
    body = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (![...head, ...rest].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  if (tail) tail.copy(out, 12);
  return out;
}

// ---- the certificate that came back ----

/** Everything wrong with `pem` as the certificate for a request judged `judgement`; empty when it is right. */
export function certificateProblems(pem: string, judgement: Judgement, issuer: X509Certificate, maxValidityMs: number): string[] {
  const problems: string[] = [];
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    return [`the certificate does not parse: ${(error as Error).message}`];
  }
  if (!certificate.verify(issuer.publicKey)) problems.push('the certificate is not signed by the issuing CA');
  if (certificate.ca) problems.push('the certificate is a CA');
  const lifetime = Date.parse(certificate.validTo) - Date.now();
  if (lifetime > maxValidityMs + 60_000) problems.push(`the certificate lives ${Math.round(lifetime / 60_000)} min, longer than the ${Math.round(maxValidityMs / 60_000)} min allowed`);
  try {
    const [tbs] = strictChildren(strictRoot(Buffer.from(certificate.raw)));
    const fields = strictChildren(tbs);
    const offset = fields[0].tag === 0xa0 ? 1 : 0;
    const subject = fields[offset + 4];
    const spki = fields[offset + 5];
    if (judgement.subject && !subject.encoded.equals(judgement.subject)) problems.push(`the subject ${subject.encoded.toString('hex')} is not ${judgement.subject.toString('hex')}, the CSR's CN alone`);
    if (judgement.spki && !spki.encoded.equals(judgement.spki)) problems.push("the public key is not the CSR's");
    const extensions = fields.find((f) => f.tag === 0xa3);
    const dnsNames: string[] = [];
    const otherNames: string[] = [];
    for (const extension of extensions ? strictChildren(strictChildren(extensions)[0]) : []) {
      const parts = strictChildren(extension);
      const oid = oidText(parts[0]);
      const value = parts[parts.length - 1].content;
      if (oid === OID.subjectAltName) {
        for (const name of strictChildren(strictRoot(value))) {
          if (name.tag === 0x82) dnsNames.push(name.content.toString('latin1'));
          else otherNames.push(`tag 0x${name.tag.toString(16)} ${name.content.toString('hex')}`);
        }
      } else if (oid === OID.keyUsage) {
        problems.push(...keyUsageProblems(value).map((usage) => `the certificate has keyUsage ${usage}`));
      }
    }
    if (dnsNames.join('\n') !== judgement.dnsNames.join('\n')) problems.push(`the certificate's dNSNames ${JSON.stringify(dnsNames)} are not the CSR's, normalised, ${JSON.stringify(judgement.dnsNames)}`);
    if (otherNames.length > 0) problems.push(`the certificate has subjectAltNames the CSR could not be allowed: ${otherNames.join(', ')}`);
  } catch (error) {
    problems.push(`the certificate's DER is malformed: ${(error as Error).message}`);
  }
  return problems;
}
