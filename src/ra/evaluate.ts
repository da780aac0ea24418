import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeCsr } from '../csr/decode';
import { parseCertificationRequest } from '../csr/parse';
import { keyFingerprint } from '../policy/deny_list';
import { classifyName } from '../policy/names';
import { evaluatePolicy, runValidators, type PolicyOutcome } from '../policy/runner';
import type { CertificationRequest, IssuanceNames, Requester, Verdict } from '../types';
import type { RegistrationAuthority } from './registration_authority';

/** What the RA needs to judge a request: the CSR as sent, who sent it, from where. */
export interface EvaluationRequest {
  readonly requester: Requester;
  readonly csr: string | Uint8Array;
  readonly source: string;
  /**
   * The identifiers a protocol has already proven control of (ACME's authorizations): the CSR must
   * ask for exactly these (RFC 8555 7.4), or the request is refused like any other policy refusal.
   */
  readonly authorizedNames?: IssuanceNames;
  /** Fingerprints (keyFingerprint) of keys revoked through this door: refused like a deny list entry. */
  readonly revokedKeys?: ReadonlySet<string>;
}

/** The verdict's name when a CSR's names differ from the authorized identifiers. */
export const AUTHORIZED_NAMES = 'authorized_identifiers';
/** The verdict's name when the CSR's key was revoked. */
export const REVOKED_KEY = 'revoked_key';

/**
 * Decodes and parses the CSR, then runs the RA's policy on it. Issuance and `mayfly policy test`
 * both come here, so a dry run sees exactly what a real request would. Throws CsrParseError for a
 * CSR that cannot be read; a refusal is in the outcome, not thrown.
 */
export function evaluate(ra: RegistrationAuthority, request: EvaluationRequest): { csr: CertificationRequest; outcome: PolicyOutcome } {
  const csr = parseCertificationRequest(decodeCsr(request.csr));
  const outcome = evaluatePolicy(ra.policy, {
    csr,
    names: { dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses },
    requester: request.requester,
    sourceAddress: request.source,
    registrationAuthority: ra.name,
  });
  const extra: Verdict[] = [];
  if (request.authorizedNames) extra.push({ validator: AUTHORIZED_NAMES, reasons: unauthorizedNameReasons(csr, request.authorizedNames) });
  if (request.revokedKeys) {
    const fingerprint = keyFingerprint(csr.publicKey.keyObject);
    extra.push({ validator: REVOKED_KEY, reasons: request.revokedKeys.has(fingerprint) ? [`the public key (SHA-256 ${fingerprint}) belongs to a revoked certificate`] : [] });
  }
  if (extra.length === 0) return { csr, outcome };
  return { csr, outcome: { ...outcome, verdicts: [...outcome.verdicts, ...extra], refusals: [...outcome.refusals, ...extra.filter((verdict) => verdict.reasons.length > 0)] } };
}

/** Every name of the CSR (common names included) must be authorized, and every authorized one asked for. */
function unauthorizedNameReasons(csr: CertificationRequest, authorized: IssuanceNames): string[] {
  const key = (raw: string): string => {
    const identifier = classifyName(raw);
    return identifier.kind === 'dns' ? identifier.name : identifier.kind === 'ip' ? identifier.address.toString() : raw;
  };
  const allowed = new Set([...authorized.dnsNames, ...authorized.ipAddresses].map(key));
  const asked = new Set([...csr.commonNames, ...csr.dnsNames, ...csr.ipAddresses].map(key));
  return [
    ...[...asked].filter((name) => !allowed.has(name)).map((name) => `'${name}' was not authorized in this order`),
    ...[...allowed].filter((name) => !asked.has(name)).map((name) => `the CSR does not ask for '${name}', which the order authorized`),
  ];
}

/**
 * The validators that judge names alone, whatever key or extensions a CSR will bring: these can
 * refuse identifiers before any CSR exists (ACME's newOrder), so a client learns early and each
 * validator's reason reaches it. The full chain still runs on the CSR at issuance.
 */
const NAME_VALIDATORS: ReadonlySet<string> = new Set(['whitelist_names', 'blacklist_names', 'alternative_names', 'alternative_names_ip', 'server_group', 'max_names', 'deny_list']);

let probeKey: KeyObject | undefined;

/** Runs the RA's name validators on identifiers alone; returns the refusing verdicts. */
export function evaluateIdentifiers(ra: RegistrationAuthority, request: { readonly requester: Requester; readonly source: string; readonly names: IssuanceNames }): Verdict[] {
  // Name validators read names from a CSR; this one carries only the names, under a key of no one's.
  probeKey ??= generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const spki = new Uint8Array(probeKey.export({ format: 'der', type: 'spki' }));
  const csr: CertificationRequest = {
    der: new Uint8Array(),
    subject: new Uint8Array(),
    subjectAttributes: [],
    commonNames: [],
    dnsNames: request.names.dnsNames,
    ipAddresses: request.names.ipAddresses,
    unsupportedNames: [],
    extensions: [],
    publicKey: { type: 'EC', bits: 256, curve: 'P-256', spki, keyObject: probeKey },
    signatureAlgorithm: { oid: '', name: '', digest: undefined },
    signatureValid: true,
  };
  const chain = ra.policy.validators.filter(({ validator }) => NAME_VALIDATORS.has(validator.name));
  return runValidators(chain, { csr, names: request.names, requester: request.requester, sourceAddress: request.source, registrationAuthority: ra.name }).filter((verdict) => verdict.reasons.length > 0);
}
