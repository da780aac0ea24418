import { randomBytes } from 'node:crypto';
import type { Requester } from '../types';
import { openRequester, recordAcme, type AcmeContext, type VerifiedRequest } from './context';
import { importJwk } from './jwk';
import { externalAccountKid, headerKey, parseJws, verifyExternalAccountBinding, verifyJws } from './jws';
import { AcmeProblem } from './problems';
import { accountView } from './resources';
import type { AccountRecord } from './store';

/** An answer: status, JSON body, and headers (Location…). */
export interface AcmeAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export const newId = (): string => randomBytes(12).toString('base64url');

/** A JWS payload that must be an object; POST-as-GET's empty payload reads as {}. */
export const payloadObject = (payload: unknown): Record<string, unknown> => {
  if (payload === undefined) return {};
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new AcmeProblem('malformed', 'the payload must be a JSON object');
  return payload as Record<string, unknown>;
};

/** RFC 8555 7.3: contact URLs; Mayfly takes mailto: addresses only. */
function contacts(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) throw new AcmeProblem('malformed', 'contact must be an array of URLs');
  for (const entry of value as string[]) {
    if (!entry.startsWith('mailto:')) throw new AcmeProblem('unsupportedContact', `contact ${JSON.stringify(entry.slice(0, 80))}: only mailto: is supported`);
    if (!/^mailto:[^@\s,?]+@[^@\s,?]+$/.test(entry)) throw new AcmeProblem('invalidContact', `contact ${JSON.stringify(entry.slice(0, 80))} is not one e-mail address`);
  }
  if (value.length > 10) throw new AcmeProblem('malformed', 'at most 10 contacts');
  return value as string[];
}

/** newAccount (RFC 8555 7.3): signed with the new key's jwk. */
export async function newAccount(context: AcmeContext, request: VerifiedRequest): Promise<AcmeAnswer> {
  const { store } = context.door;
  const payload = payloadObject(request.jws.payload);
  const [existing] = await store.list('account', context.ra.name, request.key.thumbprint);
  if (existing) {
    if (existing.status !== 'valid') throw new AcmeProblem('unauthorized', `the account is ${existing.status}`);
    return { status: 200, body: accountView(existing, context.urls), headers: { Location: context.urls.account(existing.id) } };
  }
  if (payload.onlyReturnExisting === true) throw new AcmeProblem('accountDoesNotExist', 'no account has this key');
  const contact = contacts(payload.contact);
  const id = newId();
  const requester = context.acme.registration === 'eab' ? await bindExternalAccount(context, request, payload.externalAccountBinding, id) : openRequester(id);
  const account: AccountRecord = { id, ra: context.ra.name, thumbprint: request.key.thumbprint, jwk: request.key.jwk, status: 'valid', contact, createdAt: new Date().toISOString(), requester };
  if (!(await store.insert('account', account))) throw new AcmeProblem('malformed', 'an account for this key was just created; retry');
  await recordAcme(context, { requester, action: 'new-account', account: id, outcome: 'accepted' });
  return { status: 201, body: accountView(account, context.urls), headers: { Location: context.urls.account(id) } };
}

/**
 * EAB (RFC 8555 7.3.4): the account takes the identity that was authenticated when the EAB key was
 * given out (POST /acme/<ra>/eab), so the RA's groups, server_group and rate limits apply to it.
 * Each key binds one account.
 */
async function bindExternalAccount(context: AcmeContext, request: VerifiedRequest, binding: unknown, accountId: string): Promise<Requester> {
  if (binding === undefined) throw new AcmeProblem('externalAccountRequired', `this RA binds each ACME account to an identity: get an EAB key with POST ${context.urls.base}/eab, authenticated as for /v1/sign`);
  const kid = externalAccountKid(binding);
  const key = await context.door.store.get('eab_key', kid);
  if (!key || key.ra !== context.ra.name || key.account !== undefined || new Date(key.expires) <= new Date()) throw new AcmeProblem('unauthorized', 'the external account binding key is unknown, expired or already used');
  verifyExternalAccountBinding(binding, request.url, request.key, Buffer.from(key.macKey, 'base64url'));
  const claimed = await context.door.store.update('eab_key', kid, (current) => (current.account === undefined ? { ...current, account: accountId } : undefined));
  if (!claimed) throw new AcmeProblem('unauthorized', 'the external account binding key is already used');
  return key.requester;
}

/** POST to the account URL (RFC 8555 7.3.2, 7.3.6): read it, change its contacts, or deactivate it. */
export async function updateAccount(context: AcmeContext, request: VerifiedRequest, accountId: string): Promise<AcmeAnswer> {
  const account = ownAccount(request, accountId);
  const payload = payloadObject(request.jws.payload);
  if (payload.status !== undefined && payload.status !== 'deactivated') throw new AcmeProblem('malformed', 'an account can only be changed to status deactivated');
  const contact = payload.contact !== undefined ? contacts(payload.contact) : undefined;
  if (payload.status === undefined && contact === undefined) return { status: 200, body: accountView(account, context.urls), headers: { Location: context.urls.account(account.id) } };
  const updated = await context.door.store.update('account', account.id, (current) => ({ ...current, ...(contact ? { contact } : {}), ...(payload.status === 'deactivated' ? { status: 'deactivated' as const } : {}) }));
  await recordAcme(context, { requester: account.requester, action: payload.status === 'deactivated' ? 'account-deactivated' : 'account-update', account: account.id, outcome: 'accepted' });
  return { status: 200, body: accountView(updated ?? account, context.urls), headers: { Location: context.urls.account(account.id) } };
}

/** The request's account, which must be the one addressed. */
export function ownAccount(request: VerifiedRequest, accountId: string): AccountRecord {
  if (!request.account || request.account.id !== accountId) throw new AcmeProblem('unauthorized', 'this account is not the one that signed the request');
  return request.account;
}

/**
 * keyChange (RFC 8555 7.3.5): the outer JWS by the account's key, the inner by the new key, naming
 * the account and the old key; afterwards only the new key speaks for the account.
 */
export async function changeKey(context: AcmeContext, request: VerifiedRequest): Promise<AcmeAnswer> {
  const account = request.account!;
  const inner = parseJws(request.jws.payload, { requireNonce: false });
  if (inner.header.nonce !== undefined) throw new AcmeProblem('malformed', 'the inner keyChange JWS must not carry a nonce');
  if (inner.header.url !== request.url) throw new AcmeProblem('unauthorized', 'the inner keyChange JWS must have the same url as the outer one');
  const newKey = headerKey(inner);
  verifyJws(inner, newKey);
  const payload = payloadObject(inner.payload);
  if (payload.account !== context.urls.account(account.id)) throw new AcmeProblem('unauthorized', 'the inner keyChange payload names another account');
  if (importJwk(payload.oldKey).thumbprint !== account.thumbprint) throw new AcmeProblem('unauthorized', 'oldKey is not the account key');
  const [taken] = await context.door.store.list('account', context.ra.name, newKey.thumbprint);
  if (taken) throw new AcmeProblem('malformed', 'another account already uses the new key', [], { Location: context.urls.account(taken.id) }).withStatus(409);
  let updated: AccountRecord | undefined;
  try {
    updated = await context.door.store.update('account', account.id, (current) => ({ ...current, thumbprint: newKey.thumbprint, jwk: newKey.jwk }));
  } catch {
    throw new AcmeProblem('malformed', 'another account already uses the new key');
  }
  await recordAcme(context, { requester: account.requester, action: 'key-change', account: account.id, outcome: 'accepted' });
  return { status: 200, body: accountView(updated ?? account, context.urls), headers: { Location: context.urls.account(account.id) } };
}
