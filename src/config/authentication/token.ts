import { z } from 'zod';
import { TokenAuthenticator } from '../../auth/token';
import { errorMessage } from '../../error_message';
import { auditAdminGroups, path } from '../schema_fields';
import { AuthenticationConfigError, type AuthenticationBackend } from './backend';

const schema = z.strictObject({
  backend: z.literal('token'),
  /** Written by `mayfly token create`; holds only hashes; read again when it changes. */
  tokens_file: path,
  audit_admin_groups: auditAdminGroups,
});

export const tokenAuthentication: AuthenticationBackend<typeof schema> = {
  backend: 'token',
  schema,
  async open(entry, { configPath, name }) {
    const file = configPath(entry.tokens_file);
    try {
      return new TokenAuthenticator(name, file);
    } catch (error) {
      throw new AuthenticationConfigError('tokens_file', `${file} cannot be read as a tokens file (${errorMessage(error)}); create it with \`mayfly token create --auth ${name}\``);
    }
  },
};
