import { randomBytes } from 'node:crypto';
import type { Requester } from '../types';
import type { AcmeAnswer } from './accounts';
import type { AcmeContext } from './context';

/** How long an EAB key waits for its account. */
const EAB_KEY_LIFETIME_MS = 24 * 3600_000;

/**
 * POST /acme/<ra>/eab, authenticated as for /v1/sign: a fresh external account binding key (RFC
 * 8555 7.3.4) for that identity. The ACME account it binds acts as that identity — its groups,
 * server_group and rate limits — so one policy governs both doors.
 */
export async function createEabKey(context: AcmeContext, requester: Requester): Promise<AcmeAnswer> {
  const kid = randomBytes(12).toString('base64url');
  const macKey = randomBytes(32).toString('base64url');
  const expires = new Date(Date.now() + EAB_KEY_LIFETIME_MS).toISOString();
  await context.door.store.insert('eab_key', { id: kid, ra: context.ra.name, macKey, requester, expires });
  return { status: 201, body: { kid, hmac_key: macKey, expires, directory: context.urls.directory } };
}
