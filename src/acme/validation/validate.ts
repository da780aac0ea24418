import { createHash } from 'node:crypto';
import type { AcmeProfile } from '../../ra/registration_authority';
import { AcmeProblem, type AcmeIdentifier } from '../problems';
import type { ChallengeRecord } from '../store';
import { deniedAddressReason } from './address_policy';
import { fetchHttp01 } from './http01';
import { resolveAddresses, resolveTxt } from './resolver';
import { checkTlsAlpn01 } from './tls_alpn01';

/** RFC 8555 8.1: the token, a dot, and the account key's thumbprint. */
export const keyAuthorization = (token: string, thumbprint: string): string => `${token}.${thumbprint}`;

/**
 * Checks one challenge; resolves when it is met, throws an AcmeProblem saying why not. Addresses
 * are resolved and checked against the RA's deny ranges before any connection is opened, and a
 * name with any forbidden address is refused outright (no trying the others).
 */
export async function validateChallenge(validation: AcmeProfile['validation'], identifier: AcmeIdentifier, challenge: ChallengeRecord, thumbprint: string): Promise<void> {
  const authorization = keyAuthorization(challenge.token, thumbprint);
  if (challenge.type === 'dns-01') {
    // RFC 8555 8.4: TXT _acme-challenge.<domain> holds base64url(SHA-256(key authorization)).
    const expected = createHash('sha256').update(authorization).digest('base64url');
    const name = `_acme-challenge.${identifier.value}`;
    const records = await resolveTxt(name, validation);
    if (!records.includes(expected)) throw new AcmeProblem('incorrectResponse', `no TXT record at ${name} holds the expected value (found ${records.length} record(s))`);
    return;
  }
  const addresses = identifier.type === 'ip' ? [identifier.value] : await resolveAddresses(identifier.value, validation);
  const denied = addresses.map((address) => deniedAddressReason(address, validation)).find((reason) => reason !== undefined);
  if (denied) throw new AcmeProblem('rejectedIdentifier', `${identifier.value}: ${denied}; not connected`);
  let lastProblem: unknown;
  for (const address of addresses) {
    try {
      if (challenge.type === 'http-01') {
        const body = await fetchHttp01(address, validation.httpPort, identifier.value, challenge.token, validation.timeoutMs);
        if (body !== authorization) throw new AcmeProblem('incorrectResponse', `the http-01 answer from ${address} is not the key authorization`);
      } else {
        await checkTlsAlpn01(address, validation.tlsAlpnPort, identifier, authorization, validation.timeoutMs);
      }
      return;
    } catch (error) {
      lastProblem = error;
    }
  }
  throw lastProblem;
}
