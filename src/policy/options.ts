import { z } from 'zod';
import { isNetwork } from './names';

// Option schemas several validators share, so that the same option means the same thing everywhere.

export const allowedDomains = z.array(z.string().min(1)).default([]);
export const networks = z.array(z.string().refine(isNetwork, 'not an IP address or network in CIDR form')).default([]);
export const allowWildcard = z.boolean().default(false);

/**
 * A list of names that each resolve to a canonical value (a key usage, an OID); a name that does
 * not resolve is a config error naming it.
 */
export function resolvedNames(resolve: (name: string) => string | undefined, unknown: (name: string) => string) {
  return z.array(
    z.string().transform((name, context) => {
      const resolved = resolve(name);
      if (resolved === undefined) {
        context.addIssue({ code: 'custom', message: unknown(name) });
        return z.NEVER;
      }
      return resolved;
    }),
  );
}
