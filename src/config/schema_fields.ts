import { z } from 'zod';
import { parseDuration } from './duration';

// The YAML field shapes that mayfly.yaml's sections and every backend's entry share.

export const name = z.string().min(1);
export const path = z.string().min(1);
export const duration = z.string().refine((text) => parseDuration(text) !== undefined, 'expected a duration such as 90m, 24h or 1h30m');

/** Requesters in any of these groups may read the audit ledger over HTTP. */
export const auditAdminGroups = z.array(name).default([]);

export const refusePlaintextSecret = z
  .unknown()
  .refine((value) => value === undefined, { message: 'plaintext secrets are not accepted in the config; use secret_hash (from `mayfly hash-secret`) or secret_env, and pin_env or pin_file for PINs' })
  .optional();

/**
 * Chain files of the issuing certificates this CA replaced (`mayfly ca rotate`), newest first:
 * served by GET /v1/ca after the chain and trusted for mTLS renewal, never used to sign. Remove an
 * entry once the longest certificate lifetime has passed since the rotation.
 */
export const previousCerts = z.array(path).default([]);

export const exactlyOne = (keys: readonly string[]) => (entry: Record<string, unknown>) => keys.filter((key) => entry[key] !== undefined).length === 1;
