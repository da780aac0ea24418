import { z } from 'zod';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS } from '../csr/oids';
import { parseDuration } from './duration';

// The YAML shape of mayfly.yaml. It is a contract other tools rely on: change it only by adding.

const name = z.string().min(1);
const path = z.string().min(1);

const listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:5016')
  .refine((text) => Number(text.slice(text.lastIndexOf(':') + 1)) <= 65535, 'the port must be at most 65535');

const refusePlaintextSecret = z
  .unknown()
  .refine((value) => value === undefined, { message: 'plaintext secrets are not accepted in the config; use secret_hash (from `mayfly hash-secret`) or secret_env, and pin_env or pin_file for PINs' })
  .optional();

const staticAuthentication = z
  .strictObject({
    backend: z.literal('static'),
    user: name,
    secret_hash: z.string().optional(),
    secret_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    secret: refusePlaintextSecret,
    groups: z.array(name).default([]),
    /** Requesters in any of these groups may read the audit ledger over HTTP. */
    audit_admin_groups: z.array(name).default([]),
  })
  .refine((entry) => (entry.secret_hash === undefined) !== (entry.secret_env === undefined), {
    message: 'give exactly one of secret_hash and secret_env',
  });

const localSigningCa = z.strictObject({
  backend: z.literal('local'),
  cert: path,
  key: path,
  key_passphrase_env: z.string().optional(),
});

const exactlyOne = (keys: readonly string[]) => (entry: Record<string, unknown>) => keys.filter((key) => entry[key] !== undefined).length === 1;

const pkcs11SigningCa = z
  .strictObject({
    backend: z.literal('pkcs11'),
    module: path,
    token_label: z.string().min(1).optional(),
    slot: z.number().int().min(0).optional(),
    key_label: z.string().min(1).optional(),
    key_id: z.string().regex(/^([0-9a-fA-F]{2})+$/, 'expected the key id in hex').optional(),
    pin_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    pin_file: path.optional(),
    pin: refusePlaintextSecret,
    cert: path,
    sessions: z.number().int().min(1).max(64).optional(),
  })
  .refine(exactlyOne(['token_label', 'slot']), { message: 'give exactly one of token_label and slot' })
  .refine(exactlyOne(['key_label', 'key_id']), { message: 'give exactly one of key_label and key_id' })
  .refine(exactlyOne(['pin_env', 'pin_file']), { message: 'give exactly one of pin_env and pin_file' });

const duration = z.string().refine((text) => parseDuration(text) !== undefined, 'expected a duration such as 90m, 24h or 1h30m');

/** One item of an RA's validator list: `{name: options}`; the options are checked by the validator itself. */
const validatorItem = z
  .record(z.string(), z.unknown())
  .refine((item) => Object.keys(item).length === 1, 'each validator item is a map with exactly one key, the validator name');

const registrationAuthority = z
  .strictObject({
    authentication: name,
    signing_ca: name,
    valid_hours: z.number().positive().optional(),
    validity: duration.optional(),
    backdate_minutes: z.number().min(0).max(24 * 60).default(5),
    key_usage: z.array(z.enum(KEY_USAGE_BITS)).optional(),
    ext_key_usage: z.array(z.union([z.enum(Object.keys(EXT_KEY_USAGE_OIDS) as [string, ...string[]]), z.string().regex(/^\d+(\.\d+)+$/, 'expected a key purpose name or a dotted OID')])).default(['serverAuth', 'clientAuth']),
    validators: z.array(validatorItem).default([]),
    fixups: z.array(validatorItem).default([]),
  })
  .refine((ra) => (ra.valid_hours === undefined) !== (ra.validity === undefined), { message: 'give exactly one of valid_hours and validity' });

const audit = z.strictObject({
  enabled: z.boolean().default(true),
  database: path.default('audit.db'),
  /** Ed25519 key for checkpoints; the public half is <key without .key>.pub. Created when missing. */
  key: path.default('audit.key'),
  checkpoint_every: z.number().int().min(1).default(1000),
  checkpoint_interval: duration.default('1m'),
});

export const configSchema = z.strictObject({
  plugins: z.array(path).default([]),
  audit: audit.default({ enabled: true, database: 'audit.db', key: 'audit.key', checkpoint_every: 1000, checkpoint_interval: '1m' }),
  server: z.strictObject({ listen: listen.default('127.0.0.1:5016') }).default({ listen: '127.0.0.1:5016' }),
  authentication: z.record(name, z.discriminatedUnion('backend', [staticAuthentication])),
  signing_ca: z.record(name, z.discriminatedUnion('backend', [localSigningCa, pkcs11SigningCa])),
  registration_authority: z.record(name, registrationAuthority),
});

export type ConfigDocument = z.infer<typeof configSchema>;
export type RegistrationAuthorityDocument = z.infer<typeof registrationAuthority>;
