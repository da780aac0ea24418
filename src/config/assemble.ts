import type { Authenticator } from '../auth/authenticator';
import type { KeyUsageName } from '../x509/oids';
import type { RegistrationAuthority } from '../ra/registration_authority';
import type { ConfiguredValidator } from '../policy/validator';
import { SignerConfigError } from '../signers/signer';
import { loadPreviousChain, loadSigningCa, type PreviousChain, type SigningCa } from '../signers/signing_ca';
import { alwaysOnValidators, nameSyntax } from '../../validators';
import { NAME_ATTRIBUTES } from '../x509/name';
import { authenticationBackends } from './authentication';
import { AuthenticationConfigError } from './authentication/backend';
import { openBackend } from './backend';
import { ConfigError, configPath, releaseValidators, type ConfigProblem, type MayflyConfig } from './load';
import { signingCaBackends } from './signing_ca';

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

/** The always-on validators, with the one RA-level option they read. */
function alwaysOn(allowUnderscores: boolean): ConfiguredValidator[] {
  return alwaysOnValidators.map((validator) => ({ validator, options: validator === nameSyntax ? { allow_underscores: allowUnderscores } : {} }));
}

/** Builds authenticators and signers from a validated config; a failure names the config key behind it. */
export async function assembleRuntime(config: MayflyConfig, env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  const problems: ConfigProblem[] = [];
  const authenticators = new Map<string, Authenticator>();
  const signingCas = new Map<string, SigningCa>();
  const resolvePath = (path: string) => configPath(config, path);
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
        signingCas.set(name, await loadSigningCa(name, configPath(config, entry.cert), (issuing) => openBackend(signingCaBackends, entry, { configPath: resolvePath, issuing, env }), previousChains));
      } catch (error) {
        if (!(error instanceof SignerConfigError)) throw error;
        problems.push(config.source.problem(['signing_ca', name], error.message));
      }
    }
    for (const [name, entry] of Object.entries(config.document.authentication)) {
      const at = ['authentication', name];
      try {
        authenticators.set(name, await openBackend(authenticationBackends, entry, { configPath: resolvePath, name, signingCas, env }));
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
