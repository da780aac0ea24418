import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { MtlsAuthenticator } from '../../auth/mtls';
import { pemCertificateBlocks } from '../../pem';
import { parseDuration } from '../duration';
import { auditAdminGroups, duration, name, path } from '../schema_fields';
import { AuthenticationConfigError, type AuthenticationBackend } from './backend';

const schema = z.strictObject({
  backend: z.literal('mtls'),
  /** PEM file of CA certificates a client certificate must chain to; default: Mayfly's own issuing chains. */
  ca: path.optional(),
  /** How long after expiry a certificate may still renew itself; off unless set. */
  renewal_grace: z.union([z.literal('0'), duration]).default('0'),
  /** Groups of a requester, by the user name its certificate gives (its CN, else its first SAN): e.g. { auditor.example.com: [auditors] }. */
  groups: z.record(z.string().min(1), z.array(name)).default({}),
  audit_admin_groups: auditAdminGroups,
});

export const mtlsAuthentication: AuthenticationBackend<typeof schema> = {
  backend: 'mtls',
  schema,
  async open(entry, { configPath, name, signingCas }) {
    let trusted: X509Certificate[];
    if (entry.ca !== undefined) {
      const file = configPath(entry.ca);
      const pem = await readFile(file, 'utf8').catch(() => '');
      trusted = pemCertificateBlocks(pem).map((block) => new X509Certificate(block));
      if (trusted.length === 0) throw new AuthenticationConfigError('ca', `${file} holds no PEM certificate`);
    } else {
      // Chains from before a rotation too, so that certificates they issued can renew during the overlap.
      trusted = [...signingCas.values()].flatMap((ca) => [ca.chain, ...ca.previousChains.map((previous) => previous.chain)].flat().map((der) => new X509Certificate(der)));
    }
    return new MtlsAuthenticator(name, { trusted, graceMs: parseDuration(entry.renewal_grace) ?? 0, groups: entry.groups });
  },
};
