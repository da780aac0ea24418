// CSRs that test/helpers/openssl.ts's makeCsr cannot make (a chosen key, signature options), and
// PolicyRequest objects built from real openssl CSRs for the validator tests.
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsrParseError } from '../../../src/csr/errors';
import { parseCertificationRequest } from '../../../src/csr/parse';
import type { PolicyRequest } from '../../../src/policy/validator';
import type { CertificationRequest, IssuanceNames } from '../../../src/types';
import { makeCsr, openssl, type CsrOptions, type OpensslCsr } from '../../helpers/openssl';
import { childrenOf, hex, slice, tlv, tlvAt } from './asn1';

export function withTempDir<T>(use: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-unit-'));
  try {
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl genpkey` options for the keys the tests need beyond makeCsr's. */
export const GENPKEY = {
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  p521: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  secp256k1: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
  rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  rsa2048e3: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_pubexp:3'],
  rsaPss2048: ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'],
  ed25519: ['-algorithm', 'ED25519'],
  ed448: ['-algorithm', 'ED448'],
} as const;
export type GenpkeyType = keyof typeof GENPKEY;

/** A fresh PKCS#8 PEM private key from `openssl genpkey`. */
export const generateKey = (type: GenpkeyType): string => openssl(['genpkey', ...GENPKEY[type]]).toString();

export interface KeyedCsrOptions extends CsrOptions {
  readonly keyPem: string;
  /** `openssl req -sigopt` values, e.g. "rsa_padding_mode:pss". */
  readonly sigopts?: readonly string[];
  /** e.g. "-sha384" */
  readonly digest?: string;
  /** Read -subj as UTF-8 (`openssl req -utf8`). */
  readonly utf8?: boolean;
}

/** A CSR signed by a given key, with optional signature options. */
export function makeCsrWithKey(options: KeyedCsrOptions): OpensslCsr {
  return withTempDir((dir) => {
    const key = join(dir, 'key.pem');
    const csr = join(dir, 'csr.pem');
    writeFileSync(key, options.keyPem, { mode: 0o600 });
    openssl([
      'req', '-new', '-key', key, '-out', csr, ...(options.digest ? [options.digest] : []), ...(options.utf8 ? ['-utf8'] : []),
      '-subj', options.subject ?? '/CN=svc.mayfly.test',
      ...(options.extensions ?? ['subjectAltName=DNS:svc.mayfly.test']).flatMap((e) => ['-addext', e]),
      ...(options.sigopts ?? []).flatMap((o) => ['-sigopt', o]),
    ]);
    const pem = readFileSync(csr, 'utf8');
    return { pem, der: openssl(['req', '-in', csr, '-outform', 'DER']), keyPem: options.keyPem };
  });
}

/** A PolicyRequest around a parsed CSR: its own names unless `names` overrides them. */
export function policyRequest(csr: CertificationRequest, names?: Partial<IssuanceNames>): PolicyRequest {
  return {
    csr,
    names: { dnsNames: names?.dnsNames ?? csr.dnsNames, ipAddresses: names?.ipAddresses ?? csr.ipAddresses },
    requester: { user: 'deployer', groups: [], authentication: 'deployers' },
    sourceAddress: '127.0.0.1',
    registrationAuthority: 'default',
  };
}

/** makeCsr → parseCertificationRequest → PolicyRequest, in one step. */
export const requestFor = (options: CsrOptions = {}): PolicyRequest => policyRequest(parseCertificationRequest(makeCsr(options).der));

// ---- hand-built requests, for structures openssl will not write ----

const OID_EXTENSION_REQUEST = '06092a864886f70d01090e';
const ECDSA_WITH_SHA256 = tlv(0x30, hex('06082a8648ce3d040302'));

/** The parts of a real CSR's DER, found with the test's own TLV splitter. */
export function csrParts(der: Uint8Array): { info: Buffer; subject: Buffer; spki: Buffer; algorithm: Buffer; signature: Buffer } {
  const top = childrenOf(der, tlvAt(der, 0));
  const info = childrenOf(der, top[0]);
  return { info: slice(der, top[0]), subject: slice(der, info[1]), spki: slice(der, info[2]), algorithm: slice(der, top[1]), signature: slice(der, top[2]) };
}

/** An Extension: SEQUENCE { extnID, critical (only when TRUE, as DER wants), extnValue }. */
export const extension = (oidHex: string, value: Uint8Array, critical = false): Buffer =>
  tlv(0x30, hex(oidHex), ...(critical ? [hex('0101ff')] : []), tlv(0x04, value));

export interface HandBuiltCsr {
  readonly spki: Buffer;
  readonly subject?: Buffer;
  readonly extensions?: readonly Buffer[];
  readonly version?: number;
  /** The signatureAlgorithm AlgorithmIdentifier; ecdsa-with-SHA256 by default. */
  readonly algorithm?: Buffer;
  /** An EC key to sign with ECDSA-SHA256; otherwise the signature is 64 zero octets. */
  readonly keyPem?: string;
}

/** A PKCS#10 request assembled from parts with the test's own TLV writer. */
export function buildCsr(parts: HandBuiltCsr): Buffer {
  const attributes = parts.extensions === undefined ? tlv(0xa0) : tlv(0xa0, tlv(0x30, hex(OID_EXTENSION_REQUEST), tlv(0x31, tlv(0x30, ...parts.extensions))));
  const info = tlv(0x30, tlv(0x02, Buffer.from([parts.version ?? 0])), parts.subject ?? tlv(0x30), parts.spki, attributes);
  const signature = parts.keyPem ? sign('sha256', info, parts.keyPem) : Buffer.alloc(64);
  return tlv(0x30, info, parts.algorithm ?? ECDSA_WITH_SHA256, tlv(0x03, Buffer.from([0]), signature));
}

/** A subject Name of one CN, as a UTF8String, written byte for byte (a NUL included). */
export const subjectWithCommonName = (commonName: string): Buffer => tlv(0x30, tlv(0x31, tlv(0x30, hex('0603550403'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));

/** A subjectAltName extension of dNSNames, written byte for byte. */
export const dnsNameExtension = (...names: readonly string[]): Buffer => extension('0603551d11', tlv(0x30, ...names.map((name) => tlv(0x82, Buffer.from(name, 'latin1')))));

/** A hand-built request signed by a fresh P-256 key, parsed, as a PolicyRequest. */
export function handBuiltRequest(parts: { subject?: Buffer; extensions?: readonly Buffer[] }): PolicyRequest {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return policyRequest(parseCertificationRequest(buildCsr({ spki, keyPem, ...parts })));
}

/** The CsrParseError message parsing `der` throws; fails on any other outcome. */
export function refusal(der: Uint8Array): string {
  try {
    parseCertificationRequest(der);
  } catch (error) {
    if (error instanceof CsrParseError) return error.message;
    throw new Error(`expected a CsrParseError, got ${String(error)}`);
  }
  throw new Error('expected a CsrParseError, the request parsed');
}
