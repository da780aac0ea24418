import { z } from 'zod';
import { parseDuration } from '../duration';
import { auditAdminGroups, duration, path } from '../schema_fields';
import { AuthenticationConfigError, type AuthenticationBackend } from './backend';

const schema = z
  .strictObject({
    backend: z.literal('ldap'),
    url: z.string().regex(/^ldaps?:\/\/[^/\s]+$/i, 'expected ldap://host[:port] or ldaps://host[:port]'),
    bind_dn_template: z.string().min(1),
    group_search_base: z.string().min(1),
    group_filter: z.string().min(1).optional(),
    group_attribute: z.string().min(1).optional(),
    timeout: duration.default('5s'),
    tls_ca_file: path.optional(),
    start_tls: z.boolean().default(false),
    audit_admin_groups: auditAdminGroups,
  })
  // Passwords cross to the directory: only over TLS, unless the directory is on this host.
  .refine((entry) => entry.start_tls || /^ldaps:/i.test(entry.url) || /^ldap:\/\/(127\.[\d.]+|localhost|\[::1\])(:\d+)?$/i.test(entry.url), {
    message: 'ldap:// to another host would send passwords in clear: use ldaps:// or start_tls: true',
  });

export const ldapAuthentication: AuthenticationBackend<typeof schema> = {
  backend: 'ldap',
  schema,
  async open(entry, { configPath, name }) {
    // Loaded here, not with the schema: a CA without an LDAP entry never loads ldapts.
    const { LdapAuthenticator, LdapConfigError } = require('../../auth/ldap') as typeof import('../../auth/ldap');
    try {
      return new LdapAuthenticator(name, {
        url: entry.url,
        bindDnTemplate: entry.bind_dn_template,
        groupSearchBase: entry.group_search_base,
        ...(entry.group_filter !== undefined ? { groupFilter: entry.group_filter } : {}),
        ...(entry.group_attribute !== undefined ? { groupAttribute: entry.group_attribute } : {}),
        timeoutMs: parseDuration(entry.timeout)!,
        ...(entry.tls_ca_file !== undefined ? { tlsCaFile: configPath(entry.tls_ca_file) } : {}),
        startTls: entry.start_tls,
      });
    } catch (error) {
      if (error instanceof LdapConfigError) throw new AuthenticationConfigError(error.option, error.reason);
      throw error;
    }
  },
};
