import { randomBytes } from 'node:crypto';
import { AcmeProblem } from './problems';
import type { AcmeStore } from './store';

/** How long a nonce may wait for its request; a client fetches one right before it signs. */
const NONCE_LIFETIME_MS = 60 * 60_000;

/**
 * Anti-replay nonces (RFC 8555 6.5): random, stored so that any replica sharing the store accepts
 * it, and used up by the first request that presents it.
 */
export class Nonces {
  constructor(private readonly store: AcmeStore) {}

  async issue(now = new Date()): Promise<string> {
    const value = randomBytes(16).toString('base64url');
    await this.store.addNonce(value, new Date(now.getTime() + NONCE_LIFETIME_MS));
    return value;
  }

  /** badNonce unless the nonce is fresh and unused (RFC 8555 6.5.1: the client retries with a new one). */
  async consume(value: string, now = new Date()): Promise<void> {
    if (!(await this.store.consumeNonce(value, now))) throw new AcmeProblem('badNonce', 'the nonce is unknown, expired or already used; retry with the Replay-Nonce of this answer');
  }
}
