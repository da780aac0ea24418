import { readFile } from 'node:fs/promises';
import { errorMessage } from '../error_message';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import type { ConfiguredFixup } from '../policy/fixup';
import { loadValidatorPlugin } from '../policy/plugins';
import { ValidatorRegistry } from '../policy/registry';
import type { ConfiguredValidator } from '../policy/validator';
import { parseDuration } from './duration';
import type { AcmeProfile } from '../ra/registration_authority';
import { configSchema, type AcmeDocument, type ConfigDocument } from './schema';
import { ConfigError, ConfigSource, type ConfigProblem, type KeyPath } from './source';

// The client (src/client) reads its agent.yaml with the same ConfigSource, from ./source: that file
// must not pull in the policy or signer modules this one does.
export { ConfigError, ConfigSource, type ConfigProblem };

/** The config after validation: every reference resolved, every path absolute, every option parsed. */
export interface MayflyConfig {
  readonly source: ConfigSource;
  readonly document: ConfigDocument;
  readonly listen: { readonly host: string; readonly port: number };
  readonly registrationAuthorities: ReadonlyMap<string, RegistrationAuthorityConfig>;
}

export interface RegistrationAuthorityConfig {
  readonly name: string;
  readonly authentication: string;
  readonly signingCa: string;
  readonly validityMs: number;
  readonly backdateMs: number;
  readonly keyUsage?: readonly string[];
  readonly extKeyUsage: readonly string[];
  readonly validators: readonly ConfiguredValidator[];
  readonly fixups: readonly ConfiguredFixup[];
  readonly acme?: AcmeProfile;
}

/** Reads, parses and validates a config file; throws ConfigError with every problem found. */
export async function loadConfig(file: string, registry: ValidatorRegistry = new ValidatorRegistry()): Promise<MayflyConfig> {
  const path = resolve(file);
  const text = await readFile(path, 'utf8').catch(() => {
    throw new ConfigError([{ file: path, line: 1, column: 1, key: '', message: 'the config file cannot be read' }]);
  });
  return parseConfig(path, text, registry);
}

/** `registry` starts with the built-ins; the config's plugins are registered into it. */
export function parseConfig(file: string, text: string, registry: ValidatorRegistry = new ValidatorRegistry()): MayflyConfig {
  const source = new ConfigSource(file, text);
  if (source.document.errors.length > 0) {
    throw new ConfigError(
      source.document.errors.map((error) => ({ ...source.position(error.pos[0]), file, key: '', message: `YAML: ${error.message.split('\n')[0]}` })),
    );
  }
  const parsed = configSchema.safeParse(source.document.toJS() ?? {});
  if (!parsed.success) throw new ConfigError(parsed.error.issues.flatMap((issue) => zodProblems(source, [], issue)));
  const document = parsed.data;
  const problems: ConfigProblem[] = [];
  document.plugins.forEach((plugin, index) => {
    try {
      registry.register(loadValidatorPlugin(resolve(dirname(file), plugin)));
    } catch (error) {
      problems.push(source.problem(['plugins', index], `the plugin cannot be loaded: ${errorMessage(error)}`));
    }
  });
  const registrationAuthorities = new Map<string, RegistrationAuthorityConfig>();
  for (const [name, ra] of Object.entries(document.registration_authority)) {
    const at = ['registration_authority', name];
    if (!document.authentication[ra.authentication]) {
      problems.push(source.problem([...at, 'authentication'], `no authentication entry named ${JSON.stringify(ra.authentication)} (defined: ${Object.keys(document.authentication).join(', ') || 'none'})`));
    }
    if (!document.signing_ca[ra.signing_ca]) {
      problems.push(source.problem([...at, 'signing_ca'], `no signing_ca named ${JSON.stringify(ra.signing_ca)} (defined: ${Object.keys(document.signing_ca).join(', ') || 'none'})`));
    }
    // Each item is {name: options}: the name looked up in the registry, the options parsed by its schema.
    const configure = <T extends { readonly options: z.ZodType<unknown> }>(items: readonly Record<string, unknown>[], list: 'validators' | 'fixups', lookup: (name: string) => T | undefined, known: readonly string[]) =>
      items.flatMap((item, index) => {
        const [itemName, options] = Object.entries(item)[0];
        const itemPath = [...at, list, index];
        const found = lookup(itemName);
        if (!found) {
          problems.push(source.problem(itemPath, `unknown ${list.slice(0, -1)} ${JSON.stringify(itemName)} (known: ${known.join(', ')})`, itemName));
          return [];
        }
        const result = found.options.safeParse(options ?? {});
        if (!result.success) {
          problems.push(...result.error.issues.flatMap((issue) => zodProblems(source, [...itemPath, itemName], issue)));
          return [];
        }
        return [{ found, options: result.data, path: [...itemPath, itemName] }];
      });
    const fixups = configure(ra.fixups, 'fixups', (n) => registry.getFixup(n), registry.fixupNames).map(({ found, options }) => ({ fixup: found, options }));
    const validators = configure(ra.validators, 'validators', (n) => registry.get(n), registry.names).flatMap(({ found: validator, options, path }) => {
      try {
        return [{ validator, options: validator.prepare ? validator.prepare(options, { configDir: dirname(file) }) : options }];
      } catch (error) {
        problems.push(source.problem(path, errorMessage(error)));
        return [];
      }
    });
    registrationAuthorities.set(name, {
      name,
      authentication: ra.authentication,
      signingCa: ra.signing_ca,
      validityMs: ra.validity !== undefined ? parseDuration(ra.validity)! : ra.valid_hours! * 3_600_000,
      backdateMs: ra.backdate_minutes * 60_000,
      ...(ra.key_usage ? { keyUsage: ra.key_usage } : {}),
      extKeyUsage: ra.ext_key_usage,
      validators,
      fixups,
      ...(ra.acme?.enabled ? { acme: acmeProfile(ra.acme) } : {}),
    });
  }
  if (problems.length > 0) {
    // A refused config leaves nothing open: each reload retried with it would add a file watch.
    releaseValidators([...registrationAuthorities.values()].flatMap((ra) => ra.validators));
    throw new ConfigError(problems);
  }
  const [, host, port] = /^\[?(.*?)\]?:(\d+)$/.exec(document.server.listen)!;
  return { source, document, listen: { host, port: Number(port) }, registrationAuthorities };
}

function acmeProfile(acme: AcmeDocument): AcmeProfile {
  const { validation } = acme;
  return {
    registration: acme.registration,
    orderLifetimeMs: parseDuration(acme.order_lifetime)!,
    validation: {
      httpPort: validation.http_port,
      tlsAlpnPort: validation.tls_alpn_port,
      ...(validation.resolver !== undefined ? { resolver: validation.resolver } : {}),
      timeoutMs: parseDuration(validation.timeout)!,
      allowLoopback: validation.allow_loopback,
      deniedRanges: validation.denied_ranges,
    },
  };
}

function zodProblems(source: ConfigSource, base: KeyPath, issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = [...base, ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))];
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => source.problem(path, 'unknown key', key));
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return [source.problem(path, `${issue.message}`)];
  }
  return [source.problem(path, issue.message)];
}

/** Frees what validators' `prepare` opened (a deny list's file watch): for a retired runtime, and for a refused config. */
export function releaseValidators(validators: Iterable<ConfiguredValidator>): void {
  for (const { validator, options } of validators) validator.release?.(options);
}

/** Resolves a path from the config against the config file's folder. */
export function configPath(config: MayflyConfig, path: string): string {
  return resolve(dirname(config.source.file), path);
}
