// The interop matrix: one Mayfly per CA key type, each issuing one certificate per leaf key type over
// HTTP, with a DNS and an IP subjectAltName, written to files the outside verifiers read.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CA_KEY_TYPES, type CaKeyType } from '../../src/issuance/ca_bootstrap';
import { startTestCa } from '../helpers/mayfly';
import { makeCsr, type OpensslCsr, type RequesterKeyType } from '../helpers/openssl';
import { issueWithForm, pemCertificates, replaceConfigLine } from '../integration/support';

export const LEAF_KEY_TYPES = ['p256', 'p384', 'rsa2048', 'rsa3072', 'ed25519'] as const satisfies readonly RequesterKeyType[];
export type LeafKeyType = (typeof LEAF_KEY_TYPES)[number];

export const DNS_NAME = 'svc.mayfly.test';
export const IP_ADDRESS = '127.0.0.1';
/** Names the certificates do not hold: every verifier must refuse them. */
export const WRONG_DNS_NAME = 'other.mayfly.test';
export const WRONG_IP_ADDRESS = '127.0.0.2';

export const STRANGER = 'stranger';

export interface InteropCase {
  /** e.g. "p256 CA, rsa2048 leaf"; STRANGER for the control case. */
  readonly id: string;
  readonly caKeyType: CaKeyType;
  readonly leafKeyType: LeafKeyType;
  readonly leaf: string;
  readonly leafKey: string;
  /** The issuing intermediate, PEM. */
  readonly intermediate: string;
  /** The root the verifiers are told to trust, PEM. */
  readonly root: string;
  readonly files: { readonly leaf: string; readonly intermediate: string; readonly root: string; readonly key: string };
}

export interface InteropMatrix {
  /** The selected CA key type × leaf key type combinations. */
  readonly cases: readonly InteropCase[];
  /**
   * The control: a P-256 leaf from another Mayfly (a stranger), checked against the P-256 matrix
   * root. Every verifier must refuse it, or the matrix proves nothing.
   */
  readonly stranger: InteropCase;
}

// The default RA takes DNS names only (alternative_names); the matrix also asks for an IP SAN.
const allowLoopbackIp = replaceConfigLine(/^( +)- alternative_names:\n/m, '$1- alternative_names_ip:\n$1    allowed_networks: ["127.0.0.0/8"]\n');

/** Always explicit SANs, a DNS name and an IP: the CN alone is not what TLS clients match (RFC 6125 6.4.4). */
const csrFor = (keyType: LeafKeyType): OpensslCsr =>
  makeCsr({ keyType, subject: `/CN=${DNS_NAME}`, extensions: [`subjectAltName=DNS:${DNS_NAME},IP:${IP_ADDRESS}`] });

function writeCase(dir: string, id: string, pems: { leaf: string; leafKey: string; intermediate: string; root: string }): InteropCase['files'] {
  const caseDir = join(dir, id.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(caseDir);
  const files = { leaf: join(caseDir, 'leaf.pem'), intermediate: join(caseDir, 'intermediate.pem'), root: join(caseDir, 'root.pem'), key: join(caseDir, 'leaf.key') };
  writeFileSync(files.leaf, pems.leaf);
  writeFileSync(files.intermediate, pems.intermediate);
  writeFileSync(files.root, pems.root);
  writeFileSync(files.key, pems.leafKey, { mode: 0o600 });
  return files;
}

/** Which CA key type × leaf key type combinations a run issues and checks. */
export type CaseSelection = (caKeyType: CaKeyType, leafKeyType: LeafKeyType) => boolean;

/** Every combination: `npm run test:full`. */
export const EVERY_CASE: CaseSelection = () => true;

/**
 * The CA key types of `npm test`'s slice: each algorithm and curve once. RSA-3072 and RSA-4096 CAs
 * differ from RSA-2048 only in size and cost seconds of key generation each; `test:full` checks them.
 */
const DAILY_CA_KEY_TYPES: readonly CaKeyType[] = ['p256', 'p384', 'rsa2048', 'ed25519'];

/**
 * `npm test`'s slice: every daily CA key type with a P-256 leaf, and every leaf key type under a
 * P-256 CA, so each algorithm is checked as CA and as leaf by every checker.
 */
export const DAILY_CASES: CaseSelection = (caKeyType, leafKeyType) => DAILY_CA_KEY_TYPES.includes(caKeyType) && (caKeyType === 'p256' || leafKeyType === 'p256');

/** The CA key types a selection issues under. */
export const selectedCaKeyTypes = (selected: CaseSelection): CaKeyType[] => CA_KEY_TYPES.filter((caKeyType) => LEAF_KEY_TYPES.some((leafKeyType) => selected(caKeyType, leafKeyType)));

/** Starts the CAs concurrently, issues the selected combinations, stops the CAs and keeps the PEMs in `dir`. */
export async function issueMatrix(dir: string, selected: CaseSelection): Promise<InteropMatrix> {
  const csrs = new Map(LEAF_KEY_TYPES.map((keyType) => [keyType, csrFor(keyType)] as const));
  const caKeyTypes = selectedCaKeyTypes(selected);
  const [strangerCa, ...cas] = await Promise.all([startTestCa({ editConfig: allowLoopbackIp }), ...caKeyTypes.map((keyType) => startTestCa({ keyType, editConfig: allowLoopbackIp }))]);
  try {
    const chainOf = (chainFile: string) => {
      const [intermediate, root] = pemCertificates(readFileSync(chainFile, 'utf8'));
      return { intermediate, root };
    };
    const issued = await Promise.all(
      cas.flatMap((ca, index) =>
        LEAF_KEY_TYPES.filter((leafKeyType) => selected(caKeyTypes[index], leafKeyType)).map(async (leafKeyType) => {
          const caKeyType = caKeyTypes[index];
          const csr = csrs.get(leafKeyType)!;
          const id = `${caKeyType} CA, ${leafKeyType} leaf`;
          const pems = { leaf: await issueWithForm(ca, csr.pem), leafKey: csr.keyPem, ...chainOf(ca.chainFile) };
          return { id, caKeyType, leafKeyType, ...pems, files: writeCase(dir, id, pems) };
        }),
      ),
    );
    const strangerCsr = csrs.get('p256')!;
    const strangerPems = {
      leaf: await issueWithForm(strangerCa, strangerCsr.pem),
      leafKey: strangerCsr.keyPem,
      intermediate: chainOf(strangerCa.chainFile).intermediate,
      root: chainOf(cas[caKeyTypes.indexOf('p256')].chainFile).root,
    };
    const stranger = { id: STRANGER, caKeyType: 'p256' as const, leafKeyType: 'p256' as const, ...strangerPems, files: writeCase(dir, STRANGER, strangerPems) };
    return { cases: issued, stranger };
  } finally {
    await Promise.all([strangerCa, ...cas].map((ca) => ca.stop()));
  }
}
