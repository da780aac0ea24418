import type { AccountRecord, AuthorizationRecord, ChallengeRecord, OrderRecord } from './store';
import type { AcmeUrls } from './urls';

// The JSON a client sees of each resource (RFC 8555 7.1.2–7.1.6).

export const accountView = (account: AccountRecord, urls: AcmeUrls) => ({ status: account.status, contact: account.contact, orders: urls.orders(account.id) });

/** An order past its expiry is invalid, whatever it was waiting for (RFC 8555 7.1.6). */
export function effectiveOrderStatus(order: OrderRecord, now = new Date()): OrderRecord['status'] {
  return order.status !== 'valid' && new Date(order.expires) <= now ? 'invalid' : order.status;
}

export const orderView = (order: OrderRecord, urls: AcmeUrls) => ({
  status: effectiveOrderStatus(order),
  expires: order.expires,
  identifiers: order.identifiers,
  ...(order.notBefore ? { notBefore: order.notBefore } : {}),
  ...(order.notAfter ? { notAfter: order.notAfter } : {}),
  ...(order.replaces ? { replaces: order.replaces } : {}),
  authorizations: order.authorizations.map((id) => urls.authorization(id)),
  finalize: urls.finalize(order.id),
  ...(order.certificate ? { certificate: urls.certificate(order.certificate) } : {}),
  ...(order.error ? { error: order.error } : {}),
});

export const challengeView = (authorizationId: string, challenge: ChallengeRecord, urls: AcmeUrls) => ({
  type: challenge.type,
  url: urls.challenge(authorizationId, challenge.id),
  token: challenge.token,
  status: challenge.status,
  ...(challenge.validated ? { validated: challenge.validated } : {}),
  ...(challenge.error ? { error: challenge.error } : {}),
});

export function authorizationView(authorization: AuthorizationRecord, urls: AcmeUrls) {
  const expired = authorization.status === 'pending' && new Date(authorization.expires) <= new Date();
  return {
    identifier: authorization.identifier,
    status: expired ? 'expired' : authorization.status,
    expires: authorization.expires,
    challenges: authorization.challenges.map((challenge) => challengeView(authorization.id, challenge, urls)),
    ...(authorization.wildcard ? { wildcard: true } : {}),
  };
}
