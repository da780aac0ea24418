import { z } from 'zod';
import { createSecretHash, parseSecretHash } from '../../auth/secret_hash';
import { StaticAuthenticator } from '../../auth/static';
import { auditAdminGroups, name, refusePlaintextSecret } from '../schema_fields';
import { AuthenticationConfigError, type AuthenticationBackend } from './backend';

const schema = z
  .strictObject({
    backend: z.literal('static'),
    user: name,
    secret_hash: z.string().optional(),
    secret_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    secret: refusePlaintextSecret,
    groups: z.array(name).default([]),
    audit_admin_groups: auditAdminGroups,
  })
  .refine((entry) => (entry.secret_hash === undefined) !== (entry.secret_env === undefined), {
    message: 'give exactly one of secret_hash and secret_env',
  });

export const staticAuthentication: AuthenticationBackend<typeof schema> = {
  backend: 'static',
  schema,
  async open(entry, { name, env }) {
    if (entry.secret_hash !== undefined) {
      const parsed = parseSecretHash(entry.secret_hash);
      if (typeof parsed === 'string') throw new AuthenticationConfigError('secret_hash', parsed);
      return new StaticAuthenticator(name, entry.user, parsed, entry.groups);
    }
    const secret = env[entry.secret_env!];
    if (!secret) throw new AuthenticationConfigError('secret_env', `the environment variable ${entry.secret_env} is not set or empty`);
    return new StaticAuthenticator(name, entry.user, await createSecretHash(secret), entry.groups);
  },
};
