import { alwaysOnValidators, builtinValidators } from '../../validators';
import type { Validator } from './validator';

/** Validators by YAML name: the built-ins and any plugins. One registry, no special cases. */
export class ValidatorRegistry {
  private readonly validators = new Map<string, Validator<unknown>>();

  constructor(validators: readonly Validator<any>[] = builtinValidators) { // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const validator of validators) this.register(validator);
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

  get names(): string[] {
    return [...this.validators.keys()];
  }
}
