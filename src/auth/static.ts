import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Requester } from '../types';
import type { Authenticator, Credentials } from './authenticator';
import { verifySecret, type SecretHash } from './secret_hash';

const digest = (text: string): Buffer => hash('sha256', text, 'buffer');

/** How long a secret that passed scrypt is recognised without running scrypt again. */
const VERIFIED_FOR_MS = 5 * 60_000;
/** A remembered secret used with less than this left is re-verified in the background, once. */
const RENEW_BEFORE_MS = 60_000;

/**
 * Anchor's `static` backend: one user and the scrypt hash of its secret. The user name is compared
 * over equal-length digests and the scrypt always runs for a secret not yet verified, so a wrong
 * user costs what a wrong secret costs.
 *
 * scrypt is deliberately slow (tens of ms); a fleet's deployers send the same secret thousands of
 * times a minute. So a secret that passed is remembered, for a few minutes, as an HMAC under a key
 * made at start and kept only in memory: the right secret is then recognised in microseconds,
 * while every wrong one still pays the full scrypt.
 *
 * Requests that arrive together with the same unverified secret share one scrypt (a fleet at boot, or
 * every connection when the memory lapses, would otherwise run thousands at 32 MiB each), and a
 * secret in use is re-verified shortly before its memory lapses, so a steady load never finds it lapsed.
 */
export class StaticAuthenticator implements Authenticator {
  private readonly userDigest: Buffer;
  private readonly memoryKey = randomBytes(32);
  private verified?: { readonly mac: Buffer; readonly until: number };
  /** scrypt runs in progress, by the hex HMAC of the secret they check. */
  private readonly pending = new Map<string, Promise<boolean>>();
  /**
   * Each request's HMAC, by its credentials: the front door asks costly() and then authenticate()
   * of the same credentials, and an HMAC costs more here than the lookup.
   */
  private readonly macs = new WeakMap<Credentials, Buffer>();

  constructor(
    readonly name: string,
    user: string,
    private readonly secretHash: SecretHash,
    private readonly groups: readonly string[] = [],
    private readonly now: () => number = Date.now,
  ) {
    this.userDigest = digest(user);
  }

  /**
   * Only a secret neither verified recently nor being verified now runs a scrypt of its own: the one
   * the deployers use is recognised in microseconds, and a fleet sending it together shares one check.
   */
  costly(credentials: Credentials): boolean {
    const mac = this.macOf(credentials);
    return !this.remembers(mac, this.now()) && !this.pending.has(mac.toString('hex'));
  }

  private macOf(credentials: Credentials): Buffer {
    let mac = this.macs.get(credentials);
    if (!mac) {
      mac = createHmac('sha256', this.memoryKey).update(credentials.secret ?? '', 'utf8').digest();
      this.macs.set(credentials, mac);
    }
    return mac;
  }

  private remembers(mac: Buffer, now: number): boolean {
    return this.verified !== undefined && this.verified.until > now && timingSafeEqual(mac, this.verified.mac);
  }

  async authenticate(credentials: Credentials): Promise<Requester | undefined> {
    const user = credentials.user ?? '';
    const secret = credentials.secret ?? '';
    const userMatches = timingSafeEqual(digest(user), this.userDigest);
    const mac = this.macOf(credentials);
    const now = this.now();
    const remembered = this.remembers(mac, now);
    if (remembered && this.verified!.until - now < RENEW_BEFORE_MS) this.verify(secret, mac).catch(() => undefined); // the next request sees a failure
    const secretMatches = remembered || (await this.verify(secret, mac));
    // An empty secret never authenticates, whatever was hashed (Anchor's LDAP hole, closed everywhere).
    if (!userMatches || !secretMatches || !secret) return undefined;
    return { user, groups: this.groups, authentication: this.name };
  }

  /** One scrypt per distinct secret at a time; a secret that passes is remembered. */
  private verify(secret: string, mac: Buffer): Promise<boolean> {
    const key = mac.toString('hex');
    let running = this.pending.get(key);
    if (!running) {
      running = verifySecret(secret, this.secretHash)
        .then((matches) => {
          if (matches && secret) this.verified = { mac, until: this.now() + VERIFIED_FOR_MS };
          return matches;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, running);
    }
    return running;
  }
}
