import { payloadObject, type AcmeAnswer } from './accounts';
import { accountRequester, ownedObject, recordAcme, type AcmeContext, type VerifiedRequest } from './context';
import { AcmeProblem } from './problems';
import { authorizationView, challengeView } from './resources';
import type { AuthorizationRecord, ChallengeRecord } from './store';
import { validateChallenge } from './validation/validate';

/** POST to an authorization (RFC 8555 7.5, 7.5.2): read it, or deactivate it. */
export async function authorizationRequest(context: AcmeContext, request: VerifiedRequest, authorizationId: string): Promise<AcmeAnswer> {
  let authorization = await ownedObject(context, request, 'authorization', authorizationId);
  const payload = payloadObject(request.jws.payload);
  if (payload.status !== undefined) {
    if (payload.status !== 'deactivated') throw new AcmeProblem('malformed', 'an authorization can only be changed to status deactivated');
    authorization = (await context.door.store.update('authorization', authorization.id, (current) => (current.status === 'pending' || current.status === 'valid' ? { ...current, status: 'deactivated' } : undefined))) ?? authorization;
    await settleOrder(context, authorization.order);
  }
  return { status: 200, body: authorizationView(authorization, context.urls) };
}

/**
 * POST to a challenge (RFC 8555 7.5.1): `{}` asks Mayfly to validate it. Validation runs off the
 * request path; the client polls the authorization. An empty payload only reads the challenge.
 */
export async function challengeRequest(context: AcmeContext, request: VerifiedRequest, authorizationId: string, challengeId: string): Promise<AcmeAnswer> {
  const authorization = await ownedObject(context, request, 'authorization', authorizationId);
  const challenge = authorization.challenges.find((candidate) => candidate.id === challengeId);
  if (!challenge) throw new AcmeProblem('malformed', 'no such challenge').withStatus(404);
  const up = { Link: `<${context.urls.authorization(authorization.id)}>;rel="up"` };
  if (request.jws.payload === undefined) return { status: 200, body: challengeView(authorization.id, challenge, context.urls), headers: up };
  payloadObject(request.jws.payload);
  if (authorization.status !== 'pending' || new Date(authorization.expires) <= new Date()) {
    if (challenge.status === 'valid' || challenge.status === 'processing') return { status: 200, body: challengeView(authorization.id, challenge, context.urls), headers: up };
    throw new AcmeProblem('malformed', `the authorization is ${authorization.status === 'pending' ? 'expired' : authorization.status}`);
  }
  // pending → processing once; the first request to get here starts the one validation.
  const started = await context.door.store.update('authorization', authorization.id, (current) =>
    current.status === 'pending' && current.challenges.every((candidate) => candidate.status !== 'processing')
      ? { ...current, challenges: current.challenges.map((candidate) => (candidate.id === challenge.id ? { ...candidate, status: 'processing' as const } : candidate)) }
      : undefined,
  );
  const current = (started ?? (await ownedObject(context, request, 'authorization', authorization.id))).challenges.find((candidate) => candidate.id === challenge.id)!;
  if (started) setImmediate(() => void validateInBackground(context, started, current, request.account!.thumbprint).catch(context.door.logError));
  return { status: 200, body: challengeView(authorization.id, current, context.urls), headers: { ...up, 'Retry-After': '1' } };
}

/**
 * Validates, records the outcome, then stores it on the challenge, the authorization and the order.
 * The record comes first: an authorization turns valid only once its record is durable, and the order
 * is settled right after it, so a client that sees the authorization valid finds its order ready.
 */
async function validateInBackground(context: AcmeContext, authorization: AuthorizationRecord, challenge: ChallengeRecord, thumbprint: string): Promise<void> {
  let error: AcmeProblem | undefined;
  try {
    await withTimeout(validateChallenge(context.acme.validation, authorization.identifier, challenge, thumbprint), context.acme.validation.timeoutMs * 3);
  } catch (caught) {
    error = caught instanceof AcmeProblem ? caught : new AcmeProblem('serverInternal', 'the validation failed unexpectedly');
    if (!(caught instanceof AcmeProblem)) context.door.logError(caught);
  }
  try {
    await recordAcme(context, {
      requester: await accountRequester(context, authorization.account),
      action: 'challenge',
      account: authorization.account,
      order: authorization.order,
      authorization: authorization.id,
      challenge: challenge.type,
      names: authorization.identifier.type === 'dns' ? { dnsNames: [authorization.identifier.value], ipAddresses: [] } : { dnsNames: [], ipAddresses: [authorization.identifier.value] },
      outcome: error ? 'refused' : 'accepted',
      ...(error ? { reason: error.detail } : {}),
    });
  } catch (caught) {
    // Not recorded, so it must not count: the authorization fails and the client starts a new order.
    context.door.logError(caught);
    error = new AcmeProblem('serverInternal', 'the audit ledger could not record the validation, so it does not count; try a new order');
  }
  const now = new Date().toISOString();
  const settled: ChallengeRecord = error ? { ...challenge, status: 'invalid', error: error.document() } : { ...challenge, status: 'valid', validated: now };
  const updated = await context.door.store.update('authorization', authorization.id, (current) => ({
    ...current,
    status: error ? 'invalid' : 'valid',
    challenges: current.challenges.map((candidate) => (candidate.id === challenge.id ? settled : candidate)),
  }));
  if (updated) await settleOrder(context, updated.order);
}

/** An order is ready once every authorization is valid, and invalid as soon as one is not (RFC 8555 7.1.6). */
export async function settleOrder(context: AcmeContext, orderId: string): Promise<void> {
  const order = await context.door.store.get('order', orderId);
  if (!order || order.status !== 'pending') return;
  const authorizations = await Promise.all(order.authorizations.map((id) => context.door.store.get('authorization', id)));
  const failed = authorizations.find((authorization) => !authorization || (authorization.status !== 'valid' && authorization.status !== 'pending'));
  if (failed) {
    const problem = failed?.challenges.find((challenge) => challenge.error)?.error;
    await context.door.store.update('order', orderId, (current) => (current.status === 'pending' ? { ...current, status: 'invalid', ...(problem ? { error: problem } : {}) } : undefined));
  } else if (authorizations.every((authorization) => authorization!.status === 'valid')) {
    await context.door.store.update('order', orderId, (current) => (current.status === 'pending' ? { ...current, status: 'ready' } : undefined));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new AcmeProblem('connection', `validation did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
