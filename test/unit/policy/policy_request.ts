// Builds real PolicyRequest objects for the policy unit tests: CSRs made by the openssl CLI (or, for
// what openssl refuses to make, DER built here and signed with node:crypto), parsed by Mayfly's own
// csr stage, and validator options parsed through each validator's schema as the config loader does.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { decodeCsr } from '../../../src/csr/decode';
import { parseCertificationRequest } from '../../../src/csr/parse';
import { contextTag, encode, encodeBitString, encodeBoolean, encodeOctetString, encodeOid, sequence, TAG } from '../../../src/der';
import { issuanceNames } from '../../../src/policy/names';
import type { PolicyRequest, Validator, ValidatorContext } from '../../../src/policy/validator';
import type { Requester } from '../../../src/types';
import { makeCsr, openssl, type CsrOptions } from '../../helpers/openssl';

export const REQUESTER: Requester = { user: 'alice', groups: ['nova'], authentication: 'default' };

export interface RequestContext {
  readonly requester?: Requester;
  readonly sourceAddress?: string;
}

/** A PolicyRequest for a CSR in PEM or DER, with the CSR's own names as the names to issue. */
export function requestFromCsr(csr: string | Uint8Array, context: RequestContext = {}): PolicyRequest {
  const parsed = parseCertificationRequest(decodeCsr(csr));
  return {
    csr: parsed,
    names: { dnsNames: parsed.dnsNames, ipAddresses: parsed.ipAddresses },
    requester: context.requester ?? REQUESTER,
    sourceAddress: context.sourceAddress ?? '10.0.0.1',
    registrationAuthority: 'default',
  };
}

/** The request as the runner hands it to validators: its names are the names to issue (the CN's among them, normalised). */
export const asIssued = (request: PolicyRequest): PolicyRequest => ({ ...request, names: issuanceNames(request.csr.commonNames, request.names) });

/** A fresh key and CSR from the openssl CLI, parsed into a PolicyRequest. */
export function opensslRequest(options: CsrOptions = {}, context: RequestContext = {}): PolicyRequest {
  return requestFromCsr(makeCsr(options).pem, context);
}

/** Options as the config loader makes them: the validator's own schema, then its prepare(). */
export function configure<Options>(validator: Validator<Options>, raw: unknown, context: ValidatorContext = { configDir: '/nonexistent' }): Options {
  const options = validator.options.parse(raw);
  return validator.prepare ? validator.prepare(options, context) : options;
}

/** The schema's complaints about raw options, as "path: message"; [] when they parse. */
export function optionIssues<Options>(validator: Validator<Options>, raw: unknown): string[] {
  const result = validator.options.safeParse(raw);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

/** Parses the options and checks one request, as the runner would. */
export function check<Options>(validator: Validator<Options>, raw: unknown, request: PolicyRequest, context?: ValidatorContext): readonly string[] {
  return validator.check(request, configure(validator, raw, context));
}

// ---- CSRs that openssl will not make: DER built with src/der.ts, signed with node:crypto ----

export type GeneralName = { readonly dns: string } | { readonly ip: string } | { readonly email: string } | { readonly rawDns: Uint8Array };

/** A subjectAltName extnValue: GeneralNames (RFC 5280 4.2.1.6). */
export function subjectAltNameValue(names: readonly GeneralName[]): Uint8Array {
  return sequence(
    ...names.map((name) => {
      if ('dns' in name) return encode(contextTag(2, false), Buffer.from(name.dns, 'latin1'));
      if ('rawDns' in name) return encode(contextTag(2, false), name.rawDns);
      if ('email' in name) return encode(contextTag(1, false), Buffer.from(name.email, 'latin1'));
      return encode(contextTag(7, false), Uint8Array.from(ipaddr.parse(name.ip).toByteArray()));
    }),
  );
}

export const basicConstraintsValue = (ca: boolean): Uint8Array => (ca ? sequence(encodeBoolean(true)) : sequence());

export interface BuiltExtension {
  readonly oid: string;
  readonly critical?: boolean;
  readonly value: Uint8Array;
}

export interface BuiltCsrOptions {
  /** Subject attributes in order; the value is written as a UTF8String unless `tag` says otherwise. */
  readonly subject?: readonly { readonly oid: string; readonly value: string | Uint8Array; readonly tag?: number }[];
  readonly extensions?: readonly BuiltExtension[];
  readonly key?: { readonly privateKey: KeyObject; readonly publicKey: KeyObject };
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
let sharedKey: { privateKey: KeyObject; publicKey: KeyObject } | undefined;

/** A P-256 key pair, made once per test file. */
export function p256Key(): { privateKey: KeyObject; publicKey: KeyObject } {
  sharedKey ??= generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return sharedKey;
}

/** A PKCS#10 request (RFC 2986 4) built here and self-signed with ECDSA P-256 / SHA-256: a genuinely valid CSR. */
export function buildCsr(options: BuiltCsrOptions = {}): Uint8Array {
  const key = options.key ?? p256Key();
  const subject = sequence(
    ...(options.subject ?? [{ oid: '2.5.4.3', value: 'svc.example.com' }]).map((attribute) =>
      encode(
        TAG.SET,
        sequence(
          encodeOid(attribute.oid),
          encode(attribute.tag ?? TAG.UTF8_STRING, typeof attribute.value === 'string' ? Buffer.from(attribute.value, 'utf8') : attribute.value),
        ),
      ),
    ),
  );
  const spki = new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' }));
  const extensions = options.extensions ?? [];
  const attributes =
    extensions.length === 0
      ? encode(contextTag(0, true))
      : encode(
          contextTag(0, true),
          sequence(
            encodeOid(EXTENSION_REQUEST),
            encode(
              TAG.SET,
              sequence(...extensions.map((e) => sequence(encodeOid(e.oid), ...(e.critical ? [encodeBoolean(true)] : []), encodeOctetString(e.value)))),
            ),
          ),
        );
  const info = sequence(encode(TAG.INTEGER, Uint8Array.of(0)), subject, spki, attributes);
  const signature = sign('sha256', info, key.privateKey);
  return sequence(info, sequence(encodeOid(ECDSA_WITH_SHA256)), encodeBitString(signature));
}

export const OIDS = { commonName: '2.5.4.3', organizationalUnit: '2.5.4.11', subjectAltName: '2.5.29.17', basicConstraints: '2.5.29.19' } as const;

/** A CSR made by the openssl CLI with extra `openssl req` arguments (a digest such as -sha1, -sigopt). */
export function opensslCsrWith(keyArgs: readonly string[], reqArgs: readonly string[], subject = '/CN=a.example.com'): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-policy-csr-'));
  try {
    const key = join(dir, 'key.pem');
    openssl(['genpkey', ...keyArgs, '-out', key]);
    return openssl(['req', '-new', '-key', key, '-subj', subject, ...reqArgs]).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
