import { randomBytes } from 'node:crypto';
import { CsrParseError } from '../csr/errors';
import { PolicyRejection } from '../policy/rejection';
import { evaluateIdentifiers } from '../ra/evaluate';
import { issue } from '../ra/issue';
import type { Verdict } from '../types';
import { newId, payloadObject, type AcmeAnswer } from './accounts';
import { settleOrder } from './authorizations';
import { ownedObject, recordAcme, type AcmeContext, type VerifiedRequest } from './context';
import { identifierNames, readIdentifiers } from './identifiers';
import { AcmeProblem, type AcmeIdentifier, type Subproblem } from './problems';
import { certificateRecord, replacedCertificate } from './certificates';
import { effectiveOrderStatus, orderView } from './resources';
import type { AuthorizationRecord, ChallengeRecord, ChallengeType, OrderRecord } from './store';
import { deniedAddressReason } from './validation/address_policy';

const identityKey = (request: VerifiedRequest): string => `${request.account!.requester.authentication}\u0000${request.account!.requester.user}`;

/** RFC 8555 8: which challenges an identifier gets. A wildcard is proven in DNS only (7.1.3). */
function challengeTypes(identifier: AcmeIdentifier, wildcard: boolean): ChallengeType[] {
  if (wildcard) return ['dns-01'];
  return identifier.type === 'ip' ? ['http-01', 'tls-alpn-01'] : ['http-01', 'tls-alpn-01', 'dns-01'];
}

/** Policy's reasons, each given to the identifiers it names (RFC 8555 6.7.1 subproblems). */
function refusalProblem(identifiers: readonly AcmeIdentifier[], refusals: readonly Verdict[]): AcmeProblem {
  const lines = refusals.flatMap((verdict) => verdict.reasons.map((reason) => `${verdict.validator}: ${reason}`));
  const subproblems: Subproblem[] = identifiers.flatMap((identifier) => {
    const about = lines.filter((line) => line.includes(`'${identifier.value}'`) || line.includes(` ${identifier.value} `));
    return about.length > 0 ? [{ type: 'rejectedIdentifier' as const, detail: about.join('; '), identifier }] : [];
  });
  return new AcmeProblem('rejectedIdentifier', `refused by this RA's policy: ${lines.join('; ')}`, subproblems);
}

const optionalDate = (value: unknown, field: string): Date | undefined => {
  if (value === undefined) return undefined;
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new AcmeProblem('malformed', `${field} must be an RFC 3339 date`);
  return date;
};

/**
 * newOrder (RFC 8555 7.4): the RA's name validators judge the identifiers first, so a name policy
 * forbids is refused now, naming the validator, before any challenge is attempted.
 */
export async function newOrder(context: AcmeContext, request: VerifiedRequest): Promise<AcmeAnswer> {
  const account = request.account!;
  const payload = payloadObject(request.jws.payload);
  const identifiers = readIdentifiers(payload.identifiers);
  const names = identifierNames(identifiers);
  await context.door.admitIdentity(identityKey(request));
  const now = new Date();
  const notBefore = optionalDate(payload.notBefore, 'notBefore');
  const notAfter = optionalDate(payload.notAfter, 'notAfter');
  // The RA sets lifetimes; an order may only shorten them (src/ra/issue.ts clamps validityMs).
  if (notBefore && notBefore.getTime() > now.getTime() + 60_000) throw new AcmeProblem('malformed', 'notBefore in the future is not supported; certificates start when they are issued');
  if (notAfter && notAfter <= now) throw new AcmeProblem('malformed', 'notAfter is in the past');
  const refuse = async (problem: AcmeProblem, verdicts?: Verdict[]) => {
    await recordAcme(context, { requester: account.requester, action: 'new-order', account: account.id, names, outcome: 'refused', reason: problem.detail, ...(verdicts ? { verdicts } : {}) });
    return problem;
  };
  const deniedAddresses: Subproblem[] = identifiers.flatMap((identifier) => {
    const reason = identifier.type === 'ip' ? deniedAddressReason(identifier.value, context.acme.validation) : undefined;
    return reason ? [{ type: 'rejectedIdentifier' as const, detail: reason, identifier }] : [];
  });
  if (deniedAddresses.length > 0) throw await refuse(new AcmeProblem('rejectedIdentifier', `validation may not connect to ${deniedAddresses.map((sub) => sub.identifier.value).join(', ')}`, deniedAddresses));
  const refusals = evaluateIdentifiers(context.ra, { requester: account.requester, source: context.source, names });
  if (refusals.length > 0) throw await refuse(refusalProblem(identifiers, refusals), refusals);
  const replaces = typeof payload.replaces === 'string' ? payload.replaces : undefined;
  if (replaces !== undefined) {
    const replaced = await replacedCertificate(context, replaces);
    if (!replaced || replaced.account !== account.id) throw await refuse(new AcmeProblem('malformed', 'replaces names no certificate of this account'));
    if (replaced.replacedBy) throw await refuse(new AcmeProblem('alreadyReplaced', 'that certificate has already been replaced'));
  }
  const id = newId();
  const expires = new Date(now.getTime() + context.acme.orderLifetimeMs).toISOString();
  const authorizations: AuthorizationRecord[] = identifiers.map((identifier) => {
    const wildcard = identifier.type === 'dns' && identifier.value.startsWith('*.');
    const base = wildcard ? { type: 'dns' as const, value: identifier.value.slice(2) } : identifier;
    const challenges: ChallengeRecord[] = challengeTypes(identifier, wildcard).map((type) => ({ id: newId(), type, token: randomBytes(32).toString('base64url'), status: 'pending' }));
    return { id: newId(), ra: context.ra.name, account: account.id, order: id, identifier: base, wildcard, status: 'pending', expires, challenges };
  });
  for (const authorization of authorizations) await context.door.store.insert('authorization', authorization);
  const order: OrderRecord = {
    id,
    ra: context.ra.name,
    account: account.id,
    status: 'pending',
    expires,
    identifiers,
    ...(notBefore ? { notBefore: notBefore.toISOString() } : {}),
    ...(notAfter ? { notAfter: notAfter.toISOString() } : {}),
    ...(replaces ? { replaces } : {}),
    authorizations: authorizations.map((authorization) => authorization.id),
  };
  await context.door.store.insert('order', order);
  await recordAcme(context, { requester: account.requester, action: 'new-order', account: account.id, order: id, names, outcome: 'accepted' });
  return { status: 201, body: orderView(order, context.urls), headers: { Location: context.urls.order(id) } };
}

export async function getOrder(context: AcmeContext, request: VerifiedRequest, orderId: string): Promise<AcmeAnswer> {
  const order = await ownedObject(context, request, 'order', orderId);
  return { status: 200, body: orderView(order, context.urls), headers: order.status === 'processing' ? { 'Retry-After': '1' } : {} };
}

/** POST to the account's orders URL (RFC 8555 7.1.2.1): its orders' URLs. */
export async function listOrders(context: AcmeContext, request: VerifiedRequest): Promise<AcmeAnswer> {
  const orders = await context.door.store.list('order', context.ra.name, request.account!.id);
  return { status: 200, body: { orders: orders.filter((order) => effectiveOrderStatus(order) !== 'invalid').map((order) => context.urls.order(order.id)) } };
}

/**
 * finalize (RFC 8555 7.4): the CSR goes through issue() — the whole validator chain, exactly as
 * POST /v1/sign — with the order's identifiers as the only names it may carry.
 */
export async function finalizeOrder(context: AcmeContext, request: VerifiedRequest, orderId: string): Promise<AcmeAnswer> {
  const account = request.account!;
  let order = await ownedObject(context, request, 'order', orderId);
  const { store } = context.door;
  // Its last authorization may have turned valid an instant ago, before the order was settled (another
  // process, or the validation's own next step): settle it now rather than send the client away.
  if (order.status === 'pending') {
    await settleOrder(context, order.id);
    order = await ownedObject(context, request, 'order', orderId);
  }
  if (effectiveOrderStatus(order) !== 'ready') {
    throw new AcmeProblem('orderNotReady', `the order is ${effectiveOrderStatus(order)}, not ready${order.status === 'pending' ? ': its authorizations are not all valid yet' : ''}`);
  }
  const csr = payloadObject(request.jws.payload).csr;
  if (typeof csr !== 'string' || !/^[A-Za-z0-9_-]+$/.test(csr)) throw new AcmeProblem('malformed', 'csr must be the base64url DER of a PKCS#10 request');
  // ready → processing once: a second finalize racing this one is turned away.
  const claimed = await store.update('order', order.id, (current) => (current.status === 'ready' ? { ...current, status: 'processing' } : undefined));
  if (!claimed) throw new AcmeProblem('orderNotReady', 'the order is already being finalized');
  await context.door.admitIdentity(identityKey(request)).catch(async (error: unknown) => {
    await store.update('order', order.id, (current) => ({ ...current, status: 'ready' }));
    throw error;
  });
  try {
    // A finalize signs, so it holds a signing slot like POST /v1/sign: overload is a fast 503 here too.
    context.enterSigning();
  } catch (error) {
    await store.update('order', order.id, (current) => ({ ...current, status: 'ready' }));
    throw error;
  }
  const names = identifierNames(order.identifiers);
  const revokedKeys = new Set((await store.list('revoked_key', context.ra.name)).map((revoked) => revoked.fingerprint));
  const lifetime = order.notAfter ? new Date(order.notAfter).getTime() - Date.now() : undefined;
  const base = { requester: account.requester, action: 'finalize' as const, account: account.id, order: order.id, names };
  try {
    const issued = await issue(context.ra, context.door.ledger, {
      requester: account.requester,
      csr: Buffer.from(csr, 'base64url'),
      source: context.source,
      protocol: 'acme',
      authorizedNames: names,
      revokedKeys,
      ...(lifetime !== undefined ? { validityMs: Math.max(lifetime, 60_000) } : {}),
    });
    const certificate = certificateRecord(context, account.id, order.id, issued);
    await store.insert('certificate', certificate);
    if (order.replaces) await replacedCertificate(context, order.replaces).then((replaced) => replaced && store.update('certificate', replaced.id, (current) => ({ ...current, replacedBy: certificate.id })));
    const valid = await store.update('order', order.id, (current) => ({ ...current, status: 'valid', certificate: certificate.id }));
    await recordAcme(context, { ...base, serial: issued.serialNumber, outcome: 'issued' });
    return { status: 200, body: orderView(valid!, context.urls), headers: { Location: context.urls.order(order.id) } };
  } catch (error) {
    if (!(error instanceof PolicyRejection || error instanceof CsrParseError)) {
      // Nothing was issued and nothing was wrong with the request (a signer down): the client may retry.
      await store.update('order', order.id, (current) => ({ ...current, status: 'ready' }));
      throw error;
    }
    const problem =
      error instanceof CsrParseError
        ? new AcmeProblem('badCSR', error.message)
        : new AcmeProblem('badCSR', `refused by this RA's policy: ${error.refusals.flatMap((verdict) => verdict.reasons.map((reason) => `${verdict.validator}: ${reason}`)).join('; ')}`);
    await store.update('order', order.id, (current) => ({ ...current, status: 'invalid', error: problem.document() }));
    await recordAcme(context, { ...base, outcome: 'refused', reason: problem.detail, ...(error instanceof PolicyRejection ? { verdicts: error.refusals } : {}) });
    throw problem;
  }
}
