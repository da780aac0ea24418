import { classifyName } from '../policy/names';
import type { IssuanceNames } from '../types';
import { AcmeProblem, type AcmeIdentifier } from './problems';

/** At most this many identifiers an order; Mayfly's certificates are for services, not for CDNs. */
const MAX_IDENTIFIERS = 100;

/**
 * newOrder's identifiers (RFC 8555 7.4, RFC 8738): `dns` names (a wildcard allowed) and `ip`
 * addresses, normalised (lowercase, canonical address) and each once.
 */
export function readIdentifiers(value: unknown): AcmeIdentifier[] {
  if (!Array.isArray(value) || value.length === 0) throw new AcmeProblem('malformed', 'identifiers must be a non-empty array');
  if (value.length > MAX_IDENTIFIERS) throw new AcmeProblem('rejectedIdentifier', `at most ${MAX_IDENTIFIERS} identifiers an order`);
  const seen = new Map<string, AcmeIdentifier>();
  for (const entry of value as unknown[]) {
    const { type, value: text } = (entry ?? {}) as { type?: unknown; value?: unknown };
    if (typeof text !== 'string' || typeof type !== 'string') throw new AcmeProblem('malformed', 'each identifier needs a type and a value');
    const shown = { type: type === 'ip' ? ('ip' as const) : ('dns' as const), value: text.slice(0, 255) };
    if (type !== 'dns' && type !== 'ip') throw new AcmeProblem('unsupportedIdentifier', `identifier type ${JSON.stringify(type.slice(0, 20))} is not supported; use dns or ip`, [{ type: 'unsupportedIdentifier', detail: 'not dns or ip', identifier: shown }]);
    const classified = classifyName(text);
    if (type === 'dns' && classified.kind !== 'dns') {
      throw new AcmeProblem('rejectedIdentifier', `'${shown.value}' is not a DNS name`, [{ type: 'rejectedIdentifier', detail: classified.kind === 'invalid' ? classified.problem : 'an IP address must have type ip', identifier: shown }]);
    }
    if (type === 'ip' && classified.kind !== 'ip') throw new AcmeProblem('rejectedIdentifier', `'${shown.value}' is not an IP address`, [{ type: 'rejectedIdentifier', detail: 'not an IP address', identifier: shown }]);
    const normalised: AcmeIdentifier = classified.kind === 'dns' ? { type: 'dns', value: classified.name } : { type: 'ip', value: classified.kind === 'ip' ? classified.address.toString() : text };
    seen.set(`${normalised.type}:${normalised.value}`, normalised);
  }
  return [...seen.values()];
}

/** The identifiers as the names a certificate carries. */
export const identifierNames = (identifiers: readonly AcmeIdentifier[]): IssuanceNames => ({
  dnsNames: identifiers.filter((identifier) => identifier.type === 'dns').map((identifier) => identifier.value),
  ipAddresses: identifiers.filter((identifier) => identifier.type === 'ip').map((identifier) => identifier.value),
});
