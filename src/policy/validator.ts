import type { z } from 'zod';
import type { CertificationRequest, IssuanceNames, Requester } from '../types';

/** Everything a validator may look at: the parsed request, who sent it, from where. */
export interface PolicyRequest {
  readonly csr: CertificationRequest;
  /** The names the certificate would carry (the CSR's, or the fixed-up ones on the second pass). */
  readonly names: IssuanceNames;
  readonly requester: Requester;
  /** The client address, as the server's trusted-proxy setting established it. */
  readonly sourceAddress: string;
  readonly registrationAuthority: string;
}

/**
 * A validator: a name (the YAML key and the file name), a schema for its options, and a pure
 * check that returns the reasons it refuses the request — none means it passes. Built-ins and
 * plugins implement the same interface.
 */
export interface Validator<Options = unknown> {
  readonly name: string;
  readonly options: z.ZodType<Options>;
  check(request: PolicyRequest, options: Options): readonly string[];
  /**
   * Optional, run once when the config loads: turns parsed options into what `check` reads (a file
   * loaded, a path resolved). Throwing makes the config invalid, with the message at the item's line.
   */
  prepare?(options: Options, context: ValidatorContext): Options;
  /** Optional: frees what `prepare` opened (a file watch), when a reload retires these options. */
  release?(options: Options): void;
}

/** What a validator's `prepare` may know about the config it comes from. */
export interface ValidatorContext {
  /** The folder of the config file, against which relative paths resolve. */
  readonly configDir: string;
}

/** A validator with its options already checked against its schema. */
export interface ConfiguredValidator {
  readonly validator: Validator<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- options were parsed by the validator's own schema
  readonly options: unknown;
}

/** Helper for validator files: keeps the options type tied to the schema. */
export function defineValidator<Options>(validator: Validator<Options>): Validator<Options> {
  return validator;
}
