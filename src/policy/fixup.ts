import type { z } from 'zod';
import type { IssuanceNames } from '../types';
import type { PolicyRequest } from './validator';

/**
 * A fixup changes the names a certificate will carry after the validators passed; the result is
 * validated again, so a fixup can never add what policy would refuse.
 */
export interface Fixup<Options = unknown> {
  readonly name: string;
  readonly options: z.ZodType<Options>;
  apply(request: PolicyRequest, options: Options): IssuanceNames;
}

export interface ConfiguredFixup {
  readonly fixup: Fixup<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- options were parsed by the fixup's own schema
  readonly options: unknown;
}
