import { createHash, timingSafeEqual } from 'node:crypto';
import type { Requester } from '../types';
import type { Authenticator, Credentials } from './authenticator';
import { verifySecret, type SecretHash } from './secret_hash';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Anchor's `static` backend: one user and the scrypt hash of its secret. The user name is compared
 * over equal-length digests and the scrypt always runs, so a wrong user costs what a wrong secret costs.
 */
export class StaticAuthenticator implements Authenticator {
  private readonly userDigest: Buffer;

  constructor(
    readonly name: string,
    user: string,
    private readonly secretHash: SecretHash,
    private readonly groups: readonly string[] = [],
  ) {
    this.userDigest = digest(user);
  }

  async authenticate(credentials: Credentials): Promise<Requester | undefined> {
    const user = credentials.user ?? '';
    const userMatches = timingSafeEqual(digest(user), this.userDigest);
    const secretMatches = await verifySecret(credentials.secret ?? '', this.secretHash);
    // An empty secret never authenticates, whatever was hashed (Anchor's LDAP hole, closed everywhere).
    if (!userMatches || !secretMatches || !credentials.secret) return undefined;
    return { user, groups: this.groups, authentication: this.name };
  }
}
