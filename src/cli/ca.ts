import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, stringify, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { readPinFile } from '../config/assemble';
import { errorMessage } from '../error_message';
import { parseDuration } from '../config/duration';
import { configPath, loadConfig, parseConfig, type MayflyConfig } from '../config/load';
import { certificatePem } from '../pem';
import { writeFileAtomic, writeNewFile } from '../atomic_file';
import { caKeyTypeOf, generateCaKey, issueIntermediateCertificate, withCommonName, type CaKeyType } from '../issuance/ca_bootstrap';
import { encodeName } from '../x509/name';
import { LocalSigner } from '../signers/local';
import { generateTokenKey, TOKEN_KEY_TYPES, type TokenKeyType } from '../signers/pkcs11/key_generation';
import type { Pkcs11Options } from '../signers/pkcs11/options';
import { Pkcs11Signer } from '../signers/pkcs11/signer';
import { loadSigningCa, readCertificateChain, readIssuerFields, type SigningCa } from '../signers/signing_ca';

export interface RotateOptions {
  readonly config: string;
  readonly signingCa: string;
  /** Default: the type of the key being replaced. */
  readonly keyType?: CaKeyType;
  /** Default: the current subject, its CN dated today. */
  readonly subject?: string;
  readonly days: number;
  /** Default: ca/root.pem and ca/root.key beside the config, where `mayfly init` wrote them. */
  readonly rootCert?: string;
  readonly rootKey?: string;
  readonly rootPassphraseEnv?: string;
  /** The new files' path without extension; default: the current certificate's name, dated. */
  readonly out?: string;
  /** pkcs11: the new key's label; default: the current label, dated. */
  readonly keyLabel?: string;
  /** false: write only the new key and certificate, and print the config change to make. */
  readonly editConfig: boolean;
}

export interface Rotation {
  /** The new chain file: the new issuing certificate, then the root. */
  readonly certFile: string;
  /** local: the new key file (mode 0600). */
  readonly keyFile?: string;
  /** pkcs11: the label of the new key in the token. */
  readonly keyLabel?: string;
  /** The replaced chain, as the config names it; now the first of previous_certs. */
  readonly previousCert: string;
  /** When the last certificate the replaced CA can have issued (or renewed) has expired. */
  readonly retireAfter: Date;
  /** The config as it was, when the config was edited. */
  readonly backupFile?: string;
}

const DAY_MS = 86_400_000;
/** A date suffix an earlier rotation gave a name (" 2026-11-23", "-2026-11-23"). */
const DATED = /[ -]\d{4}-\d{2}-\d{2}$/;
const undated = (name: string): string => name.replace(DATED, '');
/** `stem + suffix`, or `stem-2 + suffix`, … whichever does not exist yet. */
function unusedName(stem: string, suffix: string): string {
  for (let n = 1; ; n++) {
    const name = `${stem}${n === 1 ? '' : `-${n}`}${suffix}`;
    if (!existsSync(name)) return name;
  }
}
const seconds = (time: Date): string => time.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * `mayfly ca rotate`: a new issuing CA under the same root, beside the old one. The new key (a
 * file, or a key generated inside the token) and certificate are written without overwriting
 * anything; then the config is edited in place (comments kept, the old version backed up) so the
 * new CA signs, while the old chain stays in previous_certs: served and trusted for renewal until
 * every certificate it issued has expired.
 */
export async function rotateSigningCa(options: RotateOptions, print: (line: string) => void, env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): Promise<Rotation> {
  const config = await loadConfig(options.config);
  const name = options.signingCa;
  const entry = config.document.signing_ca[name];
  if (!entry) throw new Error(`no signing_ca named ${JSON.stringify(name)} in ${config.source.file} (defined: ${Object.keys(config.document.signing_ca).join(', ') || 'none'})`);
  const root = await openRoot(config, options, env);
  const currentFile = configPath(config, entry.cert);
  const [current] = await readCertificateChain(currentFile);
  const rootCertificate = new X509Certificate(root.chain[0]);
  if (!current.checkIssued(rootCertificate) || !current.verify(rootCertificate.publicKey)) {
    throw new Error(`the current issuing certificate in ${currentFile} is not issued by the root ${root.rootFile}; rotation keeps the root, so give the --root-cert and --root-key that issued it`);
  }
  const keyType = options.keyType ?? caKeyTypeOf(current.publicKey);
  if (!keyType) throw new Error(`the current CA key is of a type Mayfly does not generate; choose one with --key-type`);
  if (entry.backend === 'pkcs11' && !(TOKEN_KEY_TYPES as readonly string[]).includes(keyType)) {
    throw new Error(`a key in a PKCS#11 token is one of ${TOKEN_KEY_TYPES.join(', ')}, not ${keyType}; choose one with --key-type`);
  }

  const date = now.toISOString().slice(0, 10);
  const stem = options.out !== undefined ? resolve(options.out) : join(dirname(currentFile), `${undated(basename(currentFile).replace(/\.[^.]*$/, ''))}-${date}`);
  const certFile = `${stem}.pem`;
  const keyFile = entry.backend === 'local' ? `${stem}.key` : undefined;
  for (const file of [certFile, keyFile]) {
    if (file !== undefined && existsSync(file)) throw new Error(`${file} already exists; nothing was written (rotation never overwrites a file: give --out PREFIX for other names)`);
  }
  const keyLabel = entry.backend === 'pkcs11' ? (options.keyLabel ?? `${undated(entry.key_label ?? 'issuing-ca')}-${date}`) : undefined;
  const currentName = /(?:^|\n)CN=([^\n]*)/.exec(current.subject)?.[1] ?? 'Mayfly Issuing CA';
  const subject = options.subject !== undefined ? encodeName(options.subject) : withCommonName(readIssuerFields(current.raw).subject, `${undated(currentName)} ${date}`);
  const overlap = overlapOf(config, name);
  const retireAfter = new Date(Math.ceil((now.getTime() + overlap.ms) / 1000) * 1000);

  // The config change is worked out (and checked) before anything is written.
  const configDir = dirname(config.source.file);
  const inConfig = (file: string) => {
    const path = relative(configDir, file);
    return path.startsWith('..') || isAbsolute(path) ? file : path;
  };
  const change: ConfigChange = {
    set: keyFile !== undefined ? { cert: inConfig(certFile), key: inConfig(keyFile) } : { cert: inConfig(certFile), key_label: keyLabel! },
    replaceKey: entry.backend === 'pkcs11' && entry.key_id !== undefined ? { from: 'key_id', to: 'key_label' } : undefined,
    previous: entry.cert,
    note: `replaced ${seconds(now)}; remove after ${seconds(retireAfter)}`,
  };
  const text = await readFile(config.source.file, 'utf8');
  const edited = options.editConfig ? editSigningCa(text, name, change) : undefined;
  if (edited !== undefined) parseConfig(config.source.file, edited);

  const passphrase = entry.backend === 'local' && entry.key_passphrase_env !== undefined ? env[entry.key_passphrase_env] : undefined;
  if (entry.backend === 'local' && entry.key_passphrase_env !== undefined && !passphrase) {
    throw new Error(`set ${entry.key_passphrase_env}: the new key is encrypted with the same passphrase as the one it replaces`);
  }
  const token = entry.backend === 'pkcs11' ? await tokenOptions(config, entry, keyLabel!, env) : undefined;
  const backupFile = edited !== undefined ? unusedName(`${config.source.file}.${seconds(now).replace(/[-:]/g, '')}`, '.bak') : undefined;

  const written: string[] = [];
  let spki: Uint8Array;
  if (token) {
    await generateTokenKey(token, keyType as TokenKeyType);
    const generated = await Pkcs11Signer.open(token);
    spki = generated.publicKey;
    generated.close();
  }
  try {
    if (!token) {
      const key = await generateCaKey(keyType, passphrase);
      await writeNewFile(keyFile!, key.privateKeyPem, 0o600);
      written.push(keyFile!);
      spki = key.spki;
    }
    const issued = await issueIntermediateCertificate(root, spki!, subject, options.days * DAY_MS, now);
    await writeNewFile(certFile, certificatePem(issued.der) + root.chainPem, 0o644);
    written.push(certFile);
    // Loaded as `mayfly serve` will load it: the key opens and matches, the chain verifies.
    const rotated = await loadSigningCa(name, certFile, (issuing) =>
      token ? Pkcs11Signer.open(token, issuing.publicKey) : LocalSigner.load({ keyFile: keyFile!, ...(passphrase ? { passphrase } : {}) }),
    );
    if (rotated.signer instanceof Pkcs11Signer) rotated.signer.close();
    if (edited !== undefined) {
      await writeNewFile(backupFile!, text, 0o600);
      written.push(backupFile!);
      // A rename, as editors save: a running server sees one complete file change. The config keeps
      // its mode and owner, so a server running as another user can still read it.
      const { mode, uid, gid } = await stat(config.source.file);
      await writeFileAtomic(config.source.file, edited, mode & 0o777, { uid, gid });
    }
    const issuing = new X509Certificate(rotated.chain[0]);
    print(`Created the issuing CA "${issuing.subject.replace(/\n/g, ', ')}" (${rotated.signer.description}, serial ${issued.serialNumber}, valid until ${seconds(rotated.notAfter)}), signed by the root ${root.rootFile}:`);
    print(`  certificate chain: ${certFile}`);
    print(keyFile !== undefined ? `  key (mode 0600):   ${keyFile}` : `  key:               generated in the token, label '${keyLabel}' (never extractable)`);
    if (issued.notAfter.getTime() === root.notAfter.getTime()) print(`  It ends when the root does (${seconds(root.notAfter)}): plan a new root before then.`);
  } catch (error) {
    for (const file of written) await rm(file, { force: true });
    if (token) throw new Error(`${errorMessage(error)} (the key '${keyLabel}' was generated in the token and is left there)`);
    throw error;
  }

  const configured = Object.entries(change.set).map(([key, value]) => `${key}: ${stringify(value).trimEnd()}`);
  if (edited !== undefined) {
    print(`Updated ${config.source.file} (the old version is kept as ${backupFile}):`);
    print(`    signing_ca.${name}: ${configured.join(', ')}; previous_certs starts with ${entry.cert}`);
    print('A running `mayfly serve` reloads it by itself (it watches the file; SIGHUP works too).');
  } else {
    print(`The config is unchanged. Make this change to signing_ca.${name} in ${config.source.file}, then reload (SIGHUP):`);
    const previousCerts = [entry.cert, ...entry.previous_certs].map((file) => stringify(file).trimEnd()).join(', ');
    for (const line of [...(change.replaceKey ? [`(remove ${change.replaceKey.from})`] : []), ...configured, `previous_certs: [${previousCerts}]   # ${change.note}`]) print(`    ${line}`);
  }
  print(`From then on the new CA signs; GET /v1/ca serves the chain in ${entry.cert} after the new one, and mTLS renewal still trusts it.`);
  print(`After ${seconds(retireAfter)} (${overlap.reason}), remove ${entry.cert} from previous_certs and reload;`);
  print(entry.backend === 'local' ? `then destroy its key ${entry.key}, which signs nothing any more.` : `then delete its key ('${entry.key_label ?? entry.key_id}') from the token, which signs nothing any more.`);
  return { certFile, ...(keyFile !== undefined ? { keyFile } : {}), ...(keyLabel !== undefined ? { keyLabel } : {}), previousCert: entry.cert, retireAfter, ...(backupFile ? { backupFile } : {}) };
}

/** The root CA as a signer of intermediates, after checking that its key is private. */
async function openRoot(config: MayflyConfig, options: RotateOptions, env: NodeJS.ProcessEnv): Promise<SigningCa & { rootFile: string }> {
  const dir = dirname(config.source.file);
  const certFile = resolve(options.rootCert ?? join(dir, 'ca', 'root.pem'));
  const keyFile = resolve(options.rootKey ?? join(dir, 'ca', 'root.key'));
  const info = await stat(keyFile).catch(() => undefined);
  if (!info) throw new Error(`the root key ${keyFile} does not exist; the new CA certificate is signed with the root key (\`mayfly init\` writes it as ca/root.key beside the config): give its place with --root-key`);
  // A root key others can read may have leaked: refuse, like a CA key, and never show what it holds.
  if ((info.mode & 0o077) !== 0) throw new Error(`the root key ${keyFile} is readable or writable by others (mode ${(info.mode & 0o777).toString(8)}); it must be mode 0600: run chmod 600 on it, and consider whether it leaked`);
  let passphrase: string | undefined;
  if (options.rootPassphraseEnv !== undefined) {
    passphrase = env[options.rootPassphraseEnv];
    if (!passphrase) throw new Error(`the environment variable ${options.rootPassphraseEnv} (--root-passphrase-env) is not set or empty`);
  }
  const root = await loadSigningCa('root', certFile, () => LocalSigner.load({ keyFile, ...(passphrase ? { passphrase } : {}) }));
  return { ...root, rootFile: certFile };
}

type Pkcs11Entry = Extract<MayflyConfig['document']['signing_ca'][string], { backend: 'pkcs11' }>;

/** The token and PIN of a pkcs11 signing CA, for a new key labelled `keyLabel`. */
async function tokenOptions(config: MayflyConfig, entry: Pkcs11Entry, keyLabel: string, env: NodeJS.ProcessEnv): Promise<Pkcs11Options> {
  const pin = entry.pin_env !== undefined ? { value: env[entry.pin_env], source: `environment variable ${entry.pin_env}` } : await readPinFile(configPath(config, entry.pin_file!));
  if (!pin.value) throw new Error(`the PKCS#11 PIN is missing: ${pin.source} is not set or empty`);
  return {
    module: configPath(config, entry.module),
    ...(entry.token_label !== undefined ? { tokenLabel: entry.token_label } : { slot: entry.slot! }),
    keyLabel,
    pin: pin.value,
    pinSource: pin.source,
    sessions: 1,
  };
}

/**
 * How long the replaced CA's chain must stay served and trusted: until the last certificate it may
 * have issued expires (the longest lifetime of the RAs that use it), and for mTLS renewal, until
 * the longest renewal grace after that.
 */
function overlapOf(config: MayflyConfig, name: string): { ms: number; reason: string } {
  const lifetimes = [...config.registrationAuthorities.values()].filter((ra) => ra.signingCa === name);
  const longest = lifetimes.reduce((max, ra) => (ra.validityMs > max.validityMs ? ra : max), { name: '', validityMs: 0 });
  const grace = Math.max(
    0,
    ...Object.values(config.document.authentication).map((entry) => (entry.backend === 'mtls' ? (parseDuration(entry.renewal_grace) ?? 0) : 0)),
  );
  const hours = (ms: number) => `${+(ms / 3_600_000).toFixed(2)}h`;
  const lifetime = longest.name ? `${hours(longest.validityMs)}, the longest certificate lifetime of the RAs that use it: ${longest.name}` : `no RA uses signing_ca.${name}`;
  return { ms: longest.validityMs + grace, reason: grace > 0 ? `${lifetime}; plus ${hours(grace)} of mTLS renewal grace` : lifetime };
}

/** What rotation changes in one signing_ca entry of the YAML. */
interface ConfigChange {
  /** Keys whose values are replaced (or added after `cert`). */
  readonly set: Readonly<Record<string, string>>;
  /** A key that gives way to another (pkcs11 key_id → key_label), its value set from `set`. */
  readonly replaceKey: { readonly from: string; readonly to: string } | undefined;
  /** The replaced chain file, as the config named it: put first in previous_certs. */
  readonly previous: string;
  /** A comment beside it: when it can go. */
  readonly note: string;
}

/**
 * Applies `change` to the YAML text as a few splices at the places the parser locates, so every
 * other byte (comments, alignment, quoting) stays as the operator wrote it. The result is parsed
 * again and must hold exactly the change.
 */
export function editSigningCa(text: string, name: string, change: ConfigChange): string {
  const document = parseDocument(text);
  const entry = document.getIn(['signing_ca', name], true);
  const manual = `edit signing_ca.${name} by hand, or run again with --no-edit-config to see the change`;
  if (!isMap(entry) || entry.flow) throw new Error(`signing_ca.${name} is not a block mapping that can be edited in place; ${manual}`);
  const map = entry as YAMLMap<Scalar, unknown>;
  const pairOf = (key: string) => map.items.find((pair) => isScalar(pair.key) && pair.key.value === key) as Pair<Scalar, Scalar | YAMLSeq> | undefined;
  const splices: { start: number; end: number; text: string }[] = [];
  const lineStart = (offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = (offset: number) => (text.indexOf('\n', offset) === -1 ? text.length : text.indexOf('\n', offset));
  const cert = pairOf('cert');
  if (!cert || !isScalar(cert.value) || !cert.key.range || !cert.value.range) throw new Error(`signing_ca.${name}.cert cannot be located; ${manual}`);
  const indent = text.slice(lineStart(cert.key.range[0]), cert.key.range[0]);
  if (!/^ *$/.test(indent)) throw new Error(`signing_ca.${name} is laid out in a way this command does not edit; ${manual}`);
  // New keys go after the entry's last line (after `cert` when that line is not a plain value).
  const last = map.items[map.items.length - 1];
  const afterEntry = lineEnd(isScalar(last.value) && last.value.range ? last.value.range[1] : cert.value.range[1]);
  const inserted: string[] = [];

  const renamed = change.replaceKey ? pairOf(change.replaceKey.from) : undefined;
  if (renamed?.key.range) splices.push({ start: renamed.key.range[0], end: renamed.key.range[1], text: change.replaceKey!.to });
  for (const [key, value] of Object.entries(change.set)) {
    const pair = renamed && key === change.replaceKey!.to ? renamed : pairOf(key);
    if (pair && isScalar(pair.value) && pair.value.range) splices.push({ start: pair.value.range[0], end: pair.value.range[1], text: stringify(value).trimEnd() });
    else if (pair) throw new Error(`signing_ca.${name}.${key} is not a plain value; ${manual}`);
    else inserted.push(`\n${indent}${key}: ${stringify(value).trimEnd()}`);
  }
  const previousItem = `${stringify(change.previous).trimEnd()} # ${change.note}`;
  const previous = pairOf('previous_certs');
  if (!previous || previous.value === null || (isScalar(previous.value) && previous.value.value === null)) {
    if (previous) throw new Error(`signing_ca.${name}.previous_certs is empty but present; remove that line, or ${manual}`);
    inserted.push(`\n${indent}previous_certs:\n${indent}  - ${previousItem}`);
  } else if (isSeq(previous.value) && !previous.value.flow && previous.value.items.length > 0 && isScalar(previous.value.items[0]) && (previous.value.items[0] as Scalar).range) {
    const first = (previous.value.items[0] as Scalar).range![0];
    splices.push({ start: first, end: first, text: `${previousItem}\n${text.slice(lineStart(first), first)}` });
  } else if (isSeq(previous.value) && previous.value.flow && previous.value.range) {
    const files = [change.previous, ...previous.value.items.map((item) => String(isScalar(item) ? item.value : item))];
    splices.push({ start: previous.value.range[0], end: previous.value.range[1], text: `[${files.map((file) => stringify(file).trimEnd()).join(', ')}]` });
  } else {
    throw new Error(`signing_ca.${name}.previous_certs is not a list this command can extend; ${manual}`);
  }
  if (inserted.length > 0) splices.push({ start: afterEntry, end: afterEntry, text: inserted.join('') });

  let edited = text;
  for (const splice of splices.sort((a, b) => b.start - a.start)) edited = edited.slice(0, splice.start) + splice.text + edited.slice(splice.end);

  // The edit must say exactly what was meant, or nothing is written.
  const check = parseDocument(edited);
  const at = (key: string) => check.getIn(['signing_ca', name, key]);
  const oldFiles = isSeq(previous?.value) ? previous.value.items.map((item) => (isScalar(item) ? item.value : item)) : [];
  const expectedFiles = JSON.stringify([change.previous, ...oldFiles]);
  const actualFiles = JSON.stringify((at('previous_certs') as YAMLSeq | undefined)?.toJSON());
  if (check.errors.length > 0 || Object.entries(change.set).some(([key, value]) => at(key) !== value) || (change.replaceKey && check.hasIn(['signing_ca', name, change.replaceKey.from])) || actualFiles !== expectedFiles) {
    throw new Error(`the config could not be edited safely; ${manual}`);
  }
  return edited;
}
