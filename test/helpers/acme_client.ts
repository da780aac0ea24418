// A minimal ACME client for the tests that need to send what real clients never do (a replayed
// nonce, a wrong url, a CSR with other names), and for the benchmark. Signs with Node's crypto,
// independently of Mayfly's code.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { httpsRequest, type HttpsAnswer } from './mayfly';

export type AccountKeyType = 'ES256' | 'ES384' | 'RS256' | 'EdDSA';

export interface KeyPair {
  readonly alg: AccountKeyType;
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, string>;
}

export function accountKey(alg: AccountKeyType = 'ES256'): KeyPair {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'ES384'
        ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
        : alg === 'RS256'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ed25519');
  const { kty, crv, x, y, n, e } = pair.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const jwk = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, value]) => value !== undefined)) as Record<string, string>;
  return { alg, privateKey: pair.privateKey, jwk };
}

export function thumbprint(jwk: Record<string, string>): string {
  const members = jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : jwk.kty === 'RSA' ? ['e', 'kty', 'n'] : ['crv', 'kty', 'x'];
  return createHash('sha256').update(JSON.stringify(Object.fromEntries(members.map((member) => [member, jwk[member]])))).digest('base64url');
}

export interface Answer extends HttpsAnswer {
  readonly json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- ACME resources and problems, read by the tests
}

/** A JWS (flattened) over `payload` ('' for POST-as-GET) with the given protected header. */
export function jws(key: KeyPair, header: Record<string, unknown>, payload: unknown): string {
  const protectedPart = Buffer.from(JSON.stringify({ alg: key.alg, ...header })).toString('base64url');
  const payloadPart = payload === '' ? '' : Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = Buffer.from(`${protectedPart}.${payloadPart}`);
  const digest = key.alg === 'EdDSA' ? null : key.alg === 'ES384' ? 'sha384' : 'sha256';
  const signature = sign(digest, input, key.alg.startsWith('ES') ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
  return JSON.stringify({ protected: protectedPart, payload: payloadPart, signature: signature.toString('base64url') });
}

export class TestAcmeClient {
  directory: Record<string, string> = {};
  kid?: string;
  private nonce?: string;

  /** `ca`: the PEM root the server's certificate chains to; `pollMs`: the wait between polls. */
  constructor(
    readonly directoryUrl: string,
    readonly ca: string,
    public key: KeyPair = accountKey(),
    readonly pollMs = 100,
  ) {}

  async start(): Promise<this> {
    this.directory = JSON.parse((await httpsRequest(this.directoryUrl, { ca: this.ca })).body) as Record<string, string>;
    return this;
  }

  async freshNonce(): Promise<string> {
    const answer = await httpsRequest(this.directory.newNonce, { ca: this.ca, method: 'HEAD' });
    return String(answer.headers['replay-nonce']);
  }

  /** Sends a body as it is; remembers the answer's nonce. */
  async send(url: string, body: string): Promise<Answer> {
    const answer = await httpsRequest(url, { ca: this.ca, method: 'POST', headers: { 'Content-Type': 'application/jose+json' }, body });
    if (answer.headers['replay-nonce']) this.nonce = String(answer.headers['replay-nonce']);
    const type = String(answer.headers['content-type'] ?? '');
    return { ...answer, json: type.includes('json') && answer.body ? JSON.parse(answer.body) : undefined };
  }

  /** Signs and posts: kid once registered, else jwk. `overrides` changes the protected header. */
  async post(url: string, payload: unknown, overrides: Record<string, unknown> = {}): Promise<Answer> {
    const nonce = this.nonce ?? (await this.freshNonce());
    this.nonce = undefined;
    const header = { nonce, url, ...(this.kid ? { kid: this.kid } : { jwk: this.key.jwk }), ...overrides };
    return this.send(url, jws(this.key, header, payload));
  }

  async register(payload: Record<string, unknown> = { termsOfServiceAgreed: true }): Promise<Answer> {
    const answer = await this.post(this.directory.newAccount, payload);
    if (answer.status === 201 || answer.status === 200) this.kid = String(answer.headers.location);
    return answer;
  }

  keyAuthorization(token: string): string {
    return `${token}.${thumbprint(this.key.jwk)}`;
  }

  /** Polls a resource (POST-as-GET) until its status leaves pending/processing. */
  async poll(url: string, tries = 300): Promise<Answer> {
    for (let i = 0; i < tries; i++) {
      const answer = await this.post(url, '');
      if (!['pending', 'processing'].includes(answer.json?.status)) return answer;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
    throw new Error(`${url} stayed pending`);
  }

  /**
   * newOrder, then http-01 for every authorization, `publish` making each key authorization
   * available (an in-process web server); resolves with the settled order and its URL.
   */
  async authorizedOrder(identifiers: readonly { type: string; value: string }[], publish: (token: string, keyAuthorization: string) => void): Promise<Answer & { url: string }> {
    const order = await this.post(this.directory.newOrder, { identifiers });
    if (order.status !== 201) throw new Error(`newOrder answered ${order.status}: ${order.body}`);
    for (const url of order.json.authorizations as string[]) {
      const authorization = await this.post(url, '');
      const challenge = (authorization.json.challenges as { type: string; url: string; token: string }[]).find((candidate) => candidate.type === 'http-01')!;
      publish(challenge.token, this.keyAuthorization(challenge.token));
      const started = await this.post(challenge.url, {});
      if (started.status !== 200) throw new Error(`the challenge answered ${started.status}: ${started.body}`);
      await this.poll(url);
    }
    const url = String(order.headers.location);
    return { ...(await this.poll(url)), url };
  }
}
