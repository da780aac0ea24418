import { alwaysOnValidators, builtinValidators } from '../../validators';
import type { Fixup } from './fixup';
import enforceAlternativeNames from './fixups/enforce_alternative_names';
import type { Validator } from './validator';

const builtinFixups: readonly Fixup<any>[] = [enforceAlternativeNames]; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Validators and fixups by YAML name: the built-ins and any plugins. One registry, no special cases. */
export class ValidatorRegistry {
  private readonly validators = new Map<string, Validator<unknown>>();
  private readonly fixups = new Map<string, Fixup<unknown>>();

  constructor() {
    for (const validator of builtinValidators) this.register(validator as Validator<unknown>);
    for (const fixup of builtinFixups) this.fixups.set(fixup.name, fixup);
  }

  register(validator: Validator<unknown>): void {
    if (this.validators.has(validator.name) || alwaysOnValidators.some((v) => v.name === validator.name)) {
      throw new Error(`a validator named ${validator.name} is already registered`);
    }
    this.validators.set(validator.name, validator);
  }

  get(name: string): Validator<unknown> | undefined {
    return this.validators.get(name);
  }

  getFixup(name: string): Fixup<unknown> | undefined {
    return this.fixups.get(name);
  }

  get names(): string[] {
    return [...this.validators.keys()];
  }

  get fixupNames(): string[] {
    return [...this.fixups.keys()];
  }
}
