import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Requester } from '../types';
import type { Authenticator, Credentials } from './authenticator';
import { verifySecret, type SecretHash } from './secret_hash';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** How long a secret that passed scrypt is recognised without running scrypt again. */
const VERIFIED_FOR_MS = 5 * 60_000;

/**
 * Anchor's `static` backend: one user and the scrypt hash of its secret. The user name is compared
 * over equal-length digests and the scrypt always runs for a secret not yet verified, so a wrong
 * user costs what a wrong secret costs.
 *
 * scrypt is deliberately slow (tens of ms); a fleet's deployers send the same secret thousands of
 * times a minute. So a secret that passed is remembered, for a few minutes, as an HMAC under a key
 * made at start and kept only in memory: the right secret is then recognised in microseconds,
 * while every wrong one still pays the full scrypt.
 */
export class StaticAuthenticator implements Authenticator {
  private readonly userDigest: Buffer;
  private readonly memoryKey = randomBytes(32);
  private verified?: { readonly mac: Buffer; readonly until: number };

  constructor(
    readonly name: string,
    user: string,
    private readonly secretHash: SecretHash,
    private readonly groups: readonly string[] = [],
    private readonly now: () => number = Date.now,
  ) {
    this.userDigest = digest(user);
  }

  async authenticate(credentials: Credentials): Promise<Requester | undefined> {
    const user = credentials.user ?? '';
    const secret = credentials.secret ?? '';
    const userMatches = timingSafeEqual(digest(user), this.userDigest);
    const mac = createHmac('sha256', this.memoryKey).update(secret, 'utf8').digest();
    const remembered = this.verified !== undefined && this.verified.until > this.now() && timingSafeEqual(mac, this.verified.mac);
    const secretMatches = remembered || (await verifySecret(secret, this.secretHash));
    // An empty secret never authenticates, whatever was hashed (Anchor's LDAP hole, closed everywhere).
    if (!userMatches || !secretMatches || !secret) return undefined;
    if (!remembered) this.verified = { mac, until: this.now() + VERIFIED_FOR_MS };
    return { user, groups: this.groups, authentication: this.name };
  }
}
