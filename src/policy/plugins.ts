import { existsSync } from 'node:fs';
import type { Validator } from './validator';

/**
 * Loads a validator plugin: a CommonJS module whose export (default or module.exports) has the
 * built-ins' shape — a name, an options schema with safeParse (zod), and a check function.
 * Re-reads the file on every load so that a config reload picks up a changed plugin.
 */
export function loadValidatorPlugin(file: string): Validator<unknown> {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  delete require.cache[require.resolve(file)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(file) as { default?: unknown };
  const candidate = (loaded && typeof loaded === 'object' && 'default' in loaded ? loaded.default : loaded) as Partial<Validator<unknown>> | undefined;
  if (!candidate || typeof candidate !== 'object') throw new Error('the plugin exports nothing');
  if (typeof candidate.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(candidate.name)) throw new Error('the plugin must export a snake_case `name`');
  if (!candidate.options || typeof (candidate.options as { safeParse?: unknown }).safeParse !== 'function') {
    throw new Error(`plugin ${candidate.name} must export \`options\`, a zod schema`);
  }
  if (typeof candidate.check !== 'function') throw new Error(`plugin ${candidate.name} must export a \`check(request, options)\` function`);
  return candidate as Validator<unknown>;
}
