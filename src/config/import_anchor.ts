import { stringify } from 'yaml';
import { hashSecret } from '../auth/secret_hash';

// `mayfly config import-anchor`: OpenStack Anchor's config.json (docs/configuration.rst,
// doc/source/validators.rst) → mayfly.yaml. What cannot be carried over is reported, never dropped
// silently: each such item becomes a line in `unconverted` and a comment at the top of the YAML.

export interface AnchorImport {
  readonly yaml: string;
  /** What could not be converted, each with its JSON path and why. */
  readonly unconverted: readonly string[];
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

// Validators whose options mean the same in both.
const SAME_OPTIONS = new Set([
  'common_name',
  'alternative_names',
  'alternative_names_ip',
  'whitelist_names',
  'server_group',
  'extensions',
  'key_usage',
  'ext_key_usage',
  'source_cidrs',
]);
// Always on in Mayfly: nothing to configure.
const ALWAYS_ON = new Set(['ca_status', 'csr_signature']);
const FIXUPS: Readonly<Record<string, string>> = { enforce_alternative_names_present: 'enforce_alternative_names' };
const ANCHOR_DEFAULT_VALID_HOURS = 24;
const MIN_RSA_BITS = 2048;

export async function importAnchorConfig(anchor: unknown): Promise<AnchorImport> {
  const unconverted: string[] = [];
  const report = (path: string, why: string) => unconverted.push(`${path}: ${why}`);
  if (!isObject(anchor)) throw new Error('the Anchor config must be a JSON object');
  for (const key of Object.keys(anchor)) {
    if (!['authentication', 'signing_ca', 'registration_authority'].includes(key)) {
      report(key, key === 'audit' ? "not converted; Mayfly's audit ledger records every decision" : 'unknown section, not converted');
    }
  }

  const authentication: Json = {};
  for (const [name, entry] of Object.entries(isObject(anchor.authentication) ? anchor.authentication : {})) {
    const path = `authentication.${name}`;
    if (!isObject(entry) || entry.backend !== 'static') {
      report(path, `backend ${JSON.stringify(isObject(entry) ? entry.backend : entry)} has no Mayfly equivalent yet; configure it by hand`);
      continue;
    }
    if (typeof entry.user !== 'string' || typeof entry.secret !== 'string' || entry.secret === '') {
      report(path, 'a static entry needs a user and a non-empty secret');
      continue;
    }
    // Anchor kept the secret in clear; Mayfly keeps only its scrypt hash.
    authentication[name] = { backend: 'static', user: entry.user, secret_hash: await hashSecret(entry.secret) };
    for (const key of Object.keys(entry)) if (!['backend', 'user', 'secret'].includes(key)) report(`${path}.${key}`, 'unknown option, not converted');
  }

  const signingCa: Json = {};
  const validHours = new Map<string, number>();
  for (const [name, entry] of Object.entries(isObject(anchor.signing_ca) ? anchor.signing_ca : {})) {
    const path = `signing_ca.${name}`;
    const backend = isObject(entry) ? (entry.backend ?? 'anchor') : undefined;
    if (!isObject(entry) || backend !== 'anchor') {
      report(path, `backend ${JSON.stringify(backend)} is not converted; configure it by hand`);
      continue;
    }
    if (typeof entry.cert_path !== 'string' || typeof entry.key_path !== 'string') {
      report(path, 'cert_path and key_path are required');
      continue;
    }
    signingCa[name] = { backend: 'local', cert: entry.cert_path, key: entry.key_path };
    if (typeof entry.valid_hours === 'number') validHours.set(name, entry.valid_hours);
    if (entry.output_path !== undefined) report(`${path}.output_path`, 'not converted; Mayfly records issued certificates in its audit ledger, not in a folder');
    if (entry.signing_hash !== undefined && entry.signing_hash !== 'sha256') {
      report(`${path}.signing_hash`, `${JSON.stringify(entry.signing_hash)} not converted; Mayfly picks the hash from the CA key (SHA-256 for P-256 and RSA)`);
    }
    for (const key of Object.keys(entry)) {
      if (!['backend', 'cert_path', 'key_path', 'output_path', 'signing_hash', 'valid_hours'].includes(key)) report(`${path}.${key}`, 'unknown option, not converted');
    }
  }

  const registrationAuthority: Json = {};
  for (const [name, entry] of Object.entries(isObject(anchor.registration_authority) ? anchor.registration_authority : {})) {
    const path = `registration_authority.${name}`;
    if (!isObject(entry)) {
      report(path, 'not an object');
      continue;
    }
    const ra: Json = {
      authentication: entry.authentication,
      signing_ca: entry.signing_ca,
      valid_hours: validHours.get(String(entry.signing_ca)) ?? ANCHOR_DEFAULT_VALID_HOURS,
      validators: convertValidators(entry.validators, `${path}.validators`, report),
      fixups: convertFixups(entry.fixups, `${path}.fixups`, report),
    };
    registrationAuthority[name] = ra;
    for (const key of Object.keys(entry)) {
      if (!['authentication', 'signing_ca', 'validators', 'fixups'].includes(key)) report(`${path}.${key}`, 'unknown option, not converted');
    }
  }

  const header = [
    '# Converted from an OpenStack Anchor config.json by `mayfly config import-anchor`.',
    '# Paths are as Anchor had them: they now resolve against this file\'s folder.',
    ...(unconverted.length > 0 ? ['# NOT CONVERTED — review before use:', ...unconverted.map((line) => `#   ${line}`)] : []),
  ];
  const body = stringify({ authentication, signing_ca: signingCa, registration_authority: registrationAuthority });
  return { yaml: `${header.join('\n')}\n${body}`, unconverted };
}

function convertValidators(validators: unknown, path: string, report: (path: string, why: string) => void): Json[] {
  if (validators === undefined) return [];
  if (!isObject(validators)) {
    report(path, 'expected an object of validator name → options (the older list form is not converted)');
    return [];
  }
  const converted: Json[] = [];
  for (const [name, options] of Object.entries(validators)) {
    const at = `${path}.${name}`;
    if (ALWAYS_ON.has(name)) continue; // Mayfly always runs these; their Anchor options only ever asked for the same.
    if (SAME_OPTIONS.has(name)) converted.push({ [name]: options ?? {} });
    else if (name === 'blacklist_names') converted.push({ blacklist_names: { domains: isObject(options) ? (options.domains ?? options.allowed_domains ?? []) : [] } });
    else if (name === 'standards_compliance') converted.push({ standards_compliance: {} });
    else if (name === 'public_key') converted.push({ public_key: { allowed_keys: convertKeys(options, at, report) } });
    else report(at, 'no Mayfly validator of this name; not converted');
  }
  return converted;
}

function convertKeys(options: unknown, path: string, report: (path: string, why: string) => void): Json {
  const allowed = isObject(options) && isObject(options.allowed_keys) ? options.allowed_keys : {};
  const keys: Json = {};
  for (const [type, size] of Object.entries(allowed)) {
    if (type === 'RSA' && typeof size === 'number') {
      if (size < MIN_RSA_BITS) report(`${path}.allowed_keys.RSA`, `${size} bits raised to Mayfly's minimum of ${MIN_RSA_BITS}`);
      keys.RSA = Math.max(size, MIN_RSA_BITS);
    } else {
      report(`${path}.allowed_keys.${type}`, 'not converted; Mayfly allows RSA, EC and Ed25519 keys only');
    }
  }
  return keys;
}

function convertFixups(fixups: unknown, path: string, report: (path: string, why: string) => void): Json[] {
  if (fixups === undefined) return [];
  if (!isObject(fixups)) {
    report(path, 'expected an object of fixup name → options');
    return [];
  }
  return Object.keys(fixups).flatMap((name) => {
    if (FIXUPS[name]) return [{ [FIXUPS[name]]: {} }];
    report(`${path}.${name}`, 'no Mayfly fixup of this name; not converted');
    return [];
  });
}
