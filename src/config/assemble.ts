import type { Authenticator } from '../auth/authenticator';
import { createSecretHash, parseSecretHash } from '../auth/secret_hash';
import { LdapAuthenticator, LdapConfigError } from '../auth/ldap';
import { MtlsAuthenticator } from '../auth/mtls';
import { StaticAuthenticator } from '../auth/static';
import { TokenAuthenticator } from '../auth/token';
import { errorMessage } from '../error_message';
import type { KeyUsageName } from '../x509/oids';
import type { RegistrationAuthority } from '../ra/registration_authority';
import type { ConfiguredValidator } from '../policy/validator';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { LocalSigner } from '../signers/local';
import { Pkcs11Signer } from '../signers/pkcs11/signer';
import { SignerConfigError, type Signer } from '../signers/signer';
import { loadPreviousChain, loadSigningCa, type PreviousChain, type SigningCa } from '../signers/signing_ca';
import { alwaysOnValidators, nameSyntax } from '../../validators';
import { NAME_ATTRIBUTES } from '../x509/name';
import { parseDuration } from './duration';
import { ConfigError, configPath, releaseValidators, type ConfigProblem, type MayflyConfig } from './load';
import { pemCertificateBlocks } from '../pem';

export interface Runtime {
  readonly config: MayflyConfig;
  readonly registrationAuthorities: ReadonlyMap<string, RegistrationAuthority>;
  /** Every authentication entry, for routes that belong to no RA (GET /v1/audit). */
  readonly authenticators: readonly AuthenticationEntry[];
  readonly signingCas: ReadonlyMap<string, SigningCa>;
}

export interface AuthenticationEntry {
  readonly authenticator: Authenticator;
  /** Requesters in any of these groups may read the audit ledger. */
  readonly auditAdminGroups: readonly string[];
}

type AuthenticationDocument = MayflyConfig['document']['authentication'][string];

/** A problem with one key of an authentication entry. */
class AuthenticationConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

async function openAuthenticator(config: MayflyConfig, name: string, entry: AuthenticationDocument, signingCas: ReadonlyMap<string, SigningCa>, env: NodeJS.ProcessEnv): Promise<Authenticator> {
  switch (entry.backend) {
    case 'static': {
      if (entry.secret_hash !== undefined) {
        const parsed = parseSecretHash(entry.secret_hash);
        if (typeof parsed === 'string') throw new AuthenticationConfigError('secret_hash', parsed);
        return new StaticAuthenticator(name, entry.user, parsed, entry.groups);
      }
      const secret = env[entry.secret_env!];
      if (!secret) throw new AuthenticationConfigError('secret_env', `the environment variable ${entry.secret_env} is not set or empty`);
      return new StaticAuthenticator(name, entry.user, await createSecretHash(secret), entry.groups);
    }
    case 'token': {
      const file = configPath(config, entry.tokens_file);
      try {
        return new TokenAuthenticator(name, file);
      } catch (error) {
        throw new AuthenticationConfigError('tokens_file', `${file} cannot be read as a tokens file (${errorMessage(error)}); create it with \`mayfly token create --auth ${name}\``);
      }
    }
    case 'mtls': {
      let trusted: X509Certificate[];
      if (entry.ca !== undefined) {
        const file = configPath(config, entry.ca);
        const pem = await readFile(file, 'utf8').catch(() => '');
        trusted = pemCertificateBlocks(pem).map((block) => new X509Certificate(block));
        if (trusted.length === 0) throw new AuthenticationConfigError('ca', `${file} holds no PEM certificate`);
      } else {
        // Chains from before a rotation too, so that certificates they issued can renew during the overlap.
        trusted = [...signingCas.values()].flatMap((ca) => [ca.chain, ...ca.previousChains.map((previous) => previous.chain)].flat().map((der) => new X509Certificate(der)));
      }
      return new MtlsAuthenticator(name, { trusted, graceMs: parseDuration(entry.renewal_grace) ?? 0 });
    }
    case 'ldap':
      try {
        return new LdapAuthenticator(name, {
          url: entry.url,
          bindDnTemplate: entry.bind_dn_template,
          groupSearchBase: entry.group_search_base,
          ...(entry.group_filter !== undefined ? { groupFilter: entry.group_filter } : {}),
          ...(entry.group_attribute !== undefined ? { groupAttribute: entry.group_attribute } : {}),
          timeoutMs: parseDuration(entry.timeout)!,
          ...(entry.tls_ca_file !== undefined ? { tlsCaFile: configPath(config, entry.tls_ca_file) } : {}),
          startTls: entry.start_tls,
        });
      } catch (error) {
        if (error instanceof LdapConfigError) throw new AuthenticationConfigError(error.option, error.reason);
        throw error;
      }
  }
}

type SigningCaDocument = MayflyConfig['document']['signing_ca'][string];

async function openSigner(config: MayflyConfig, entry: SigningCaDocument, issuing: X509Certificate, env: NodeJS.ProcessEnv): Promise<Signer> {
  if (entry.backend === 'local') {
    const passphrase = entry.key_passphrase_env ? env[entry.key_passphrase_env] : undefined;
    return LocalSigner.load({ keyFile: configPath(config, entry.key), ...(passphrase ? { passphrase } : {}) });
  }
  const pin = entry.pin_env !== undefined ? { value: env[entry.pin_env], source: `environment variable ${entry.pin_env}` } : await readPinFile(configPath(config, entry.pin_file!));
  if (!pin.value) throw new SignerConfigError(`the PKCS#11 PIN is missing: ${pin.source} is not set or empty`);
  return Pkcs11Signer.open(
    {
      module: configPath(config, entry.module),
      ...(entry.token_label !== undefined ? { tokenLabel: entry.token_label } : { slot: entry.slot! }),
      ...(entry.key_label !== undefined ? { keyLabel: entry.key_label } : { keyId: entry.key_id! }),
      pin: pin.value,
      pinSource: pin.source,
      ...(entry.sessions !== undefined ? { sessions: entry.sessions } : {}),
    },
    issuing.publicKey,
  );
}

/** A PIN file must be private (mode 0600), like a key file; its first line is the PIN. */
export async function readPinFile(file: string): Promise<{ value: string | undefined; source: string }> {
  const source = `file ${file}`;
  const info = await stat(file).catch(() => undefined);
  if (!info) return { value: undefined, source };
  if ((info.mode & 0o077) !== 0) throw new SignerConfigError(`the PIN file ${file} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`);
  return { value: (await readFile(file, 'utf8')).split('\n')[0].trim(), source };
}

/** The always-on validators, with the one RA-level option they read. */
function alwaysOn(allowUnderscores: boolean): ConfiguredValidator[] {
  return alwaysOnValidators.map((validator) => ({ validator, options: validator === nameSyntax ? { allow_underscores: allowUnderscores } : {} }));
}

/** Builds authenticators and signers from a validated config; a failure names the config key behind it. */
export async function assembleRuntime(config: MayflyConfig, env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  const problems: ConfigProblem[] = [];
  const authenticators = new Map<string, Authenticator>();
  const signingCas = new Map<string, SigningCa>();
  try {
    for (const [name, entry] of Object.entries(config.document.signing_ca)) {
      const previousChains: PreviousChain[] = [];
      for (const [index, file] of entry.previous_certs.entries()) {
        try {
          const previous = await loadPreviousChain(configPath(config, file));
          if (previous) previousChains.push(previous);
        } catch (error) {
          if (!(error instanceof SignerConfigError)) throw error;
          problems.push(config.source.problem(['signing_ca', name, 'previous_certs', index], error.message));
        }
      }
      try {
        signingCas.set(name, await loadSigningCa(name, configPath(config, entry.cert), (issuing) => openSigner(config, entry, issuing, env), previousChains));
      } catch (error) {
        if (!(error instanceof SignerConfigError)) throw error;
        problems.push(config.source.problem(['signing_ca', name], error.message));
      }
    }
    for (const [name, entry] of Object.entries(config.document.authentication)) {
      const at = ['authentication', name];
      try {
        authenticators.set(name, await openAuthenticator(config, name, entry, signingCas, env));
      } catch (error) {
        if (!(error instanceof AuthenticationConfigError)) throw error;
        problems.push(config.source.problem([...at, error.key], error.message));
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
  } catch (error) {
    // Nothing a refused config opened stays open: a reload retried with a bad config must not pile up token sessions or file watches.
    releaseOpened(signingCas.values(), authenticators.values(), [...config.registrationAuthorities.values()].flatMap((ra) => ra.validators));
    throw error;
  }
  const registrationAuthorities = new Map<string, RegistrationAuthority>();
  for (const [name, ra] of config.registrationAuthorities) {
    const { subject_attributes: subjectAttributeNames, allow_underscores: allowUnderscores } = config.document.registration_authority[name];
    const subjectAttributes = subjectAttributeNames.map((short) => NAME_ATTRIBUTES[short].oid);
    registrationAuthorities.set(name, {
      name,
      authenticator: authenticators.get(ra.authentication)!,
      policy: { validators: [...alwaysOn(allowUnderscores), ...ra.validators], fixups: ra.fixups, subjectAttributes },
      profile: {
        validityMs: ra.validityMs,
        backdateMs: ra.backdateMs,
        ...(ra.keyUsage ? { keyUsage: ra.keyUsage as KeyUsageName[] } : {}),
        extKeyUsage: ra.extKeyUsage,
        subjectAttributes,
        allowUnderscores,
      },
      signingCa: signingCas.get(ra.signingCa)!,
      ...(ra.acme ? { acme: ra.acme } : {}),
    });
  }
  const entries = Object.entries(config.document.authentication).map(([name, entry]) => ({ authenticator: authenticators.get(name)!, auditAdminGroups: entry.audit_admin_groups }));
  return { config, registrationAuthorities, authenticators: entries, signingCas };
}

/** Frees what a retired runtime's authenticators and validators hold (file watches), once no request can still use it. */
export function releaseRuntime(runtime: Runtime): void {
  releaseOpened(
    runtime.signingCas.values(),
    runtime.authenticators.map((entry) => entry.authenticator),
    [...runtime.registrationAuthorities.values()].flatMap((ra) => ra.policy.validators),
  );
}

/** Closes what signers, authenticators and validators hold (token sessions, file watches). */
function releaseOpened(signingCas: Iterable<SigningCa>, authenticators: Iterable<Authenticator>, validators: Iterable<ConfiguredValidator>): void {
  for (const ca of signingCas) ca.signer.release?.();
  for (const authenticator of authenticators) authenticator.close?.();
  releaseValidators(validators);
}
