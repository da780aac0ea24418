import type { z } from 'zod';

/** The YAML shape of one backend's entry: an object whose `backend` key names it. */
export type BackendSchema = z.ZodObject<{ backend: z.ZodLiteral<string> }>;

/**
 * A backend of a config section (`authentication`, `signing_ca`): its YAML entry, and how that entry,
 * once valid, opens what it configures.
 */
export interface Backend<Schema extends BackendSchema, Context, Opened> {
  readonly backend: z.output<Schema>['backend'];
  readonly schema: Schema;
  open(entry: z.output<Schema>, context: Context): Promise<Opened>;
}

type Schemas<Backends extends readonly { readonly schema: BackendSchema }[]> = { readonly [Index in keyof Backends]: Backends[Index]['schema'] };

/** The entry schemas of a registration list, in its order: the options of the section's `backend` union. */
export function schemasOf<Backends extends readonly [{ readonly schema: BackendSchema }, ...{ readonly schema: BackendSchema }[]]>(backends: Backends): Schemas<Backends> {
  return backends.map((backend) => backend.schema) as Schemas<Backends>;
}

/** Opens a valid entry with the backend it names (the section's union guarantees one is registered). */
export function openBackend<Context, Opened>(backends: readonly Backend<BackendSchema, Context, Opened>[], entry: { readonly backend: string }, context: Context): Promise<Opened> {
  return backends.find((candidate) => candidate.backend === entry.backend)!.open(entry, context);
}
