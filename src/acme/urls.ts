/** The URLs of one RA's ACME resources (RFC 8555 7.1), under https://<host>/acme/<ra>. */
export class AcmeUrls {
  constructor(readonly base: string) {}

  get directory(): string {
    return `${this.base}/directory`;
  }
  get newNonce(): string {
    return `${this.base}/new-nonce`;
  }
  get newAccount(): string {
    return `${this.base}/new-account`;
  }
  get newOrder(): string {
    return `${this.base}/new-order`;
  }
  get revokeCert(): string {
    return `${this.base}/revoke-cert`;
  }
  get keyChange(): string {
    return `${this.base}/key-change`;
  }
  get renewalInfo(): string {
    return `${this.base}/renewal-info`;
  }
  account(id: string): string {
    return `${this.base}/account/${id}`;
  }
  orders(accountId: string): string {
    return `${this.base}/account/${accountId}/orders`;
  }
  order(id: string): string {
    return `${this.base}/order/${id}`;
  }
  finalize(orderId: string): string {
    return `${this.base}/order/${orderId}/finalize`;
  }
  authorization(id: string): string {
    return `${this.base}/authz/${id}`;
  }
  challenge(authorizationId: string, challengeId: string): string {
    return `${this.base}/chall/${authorizationId}/${challengeId}`;
  }
  certificate(id: string, alternate?: number): string {
    return `${this.base}/cert/${id}${alternate ? `/${alternate}` : ''}`;
  }

  /** The account id a `kid` names, when it is one of this RA's account URLs. */
  accountIdOf(kid: string): string | undefined {
    const prefix = `${this.base}/account/`;
    return kid.startsWith(prefix) && /^[A-Za-z0-9_-]+$/.test(kid.slice(prefix.length)) ? kid.slice(prefix.length) : undefined;
  }
}
