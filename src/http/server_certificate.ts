import { generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import ipaddr from 'ipaddr.js';
import type { Ledger } from '../audit/ledger';
import { OID } from '../x509/oids';
import { NAME_ATTRIBUTES } from '../x509/name';
import { issueOwnCertificate } from '../ra/issue';
import type { SigningCa } from '../signers/signing_ca';
import { certificatePem } from '../pem';

/** The key and chain a TLS server presents. */
export interface ServerCredentials {
  readonly key: string;
  /** The server certificate, then the issuing chain. */
  readonly cert: string;
  readonly notAfter: Date;
}

const LIFETIME_MS = 24 * 3_600_000;
const BACKDATE_MS = 5 * 60_000;

/**
 * The names Mayfly's own certificate carries: the listen address (or, for a wildcard address, this
 * host's name), loopback names when it listens on loopback, and `server.names`.
 */
export function serverNames(host: string, extra: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const names = new Set<string>(extra);
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  if (wildcard) names.add(hostname());
  else names.add(host);
  if (wildcard || host === 'localhost' || (ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback')) {
    names.add('localhost').add('127.0.0.1').add('::1');
  }
  const all = [...names];
  return {
    // Issued in the form clients match (lower case, no trailing dot), as every leaf's names are.
    dnsNames: [...new Set(all.filter((name) => !isIP(name)).map((name) => name.toLowerCase().replace(/\.$/, '')))],
    ipAddresses: all.filter((name) => isIP(name)).map((name) => ipaddr.process(name).toString()),
  };
}

/**
 * Issues Mayfly's own server certificate from `ca`, for a P-256 key made here and never written,
 * through the RA's issuance path: like every certificate Mayfly signs, it is in the ledger.
 */
export async function issueServerCertificate(ca: SigningCa, names: { dnsNames: string[]; ipAddresses: string[] }, ledger: Ledger): Promise<ServerCredentials> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const issued = await issueOwnCertificate(
    ledger,
    ca,
    {
      subject: [
        { type: OID.commonName, value: names.dnsNames[0] ?? names.ipAddresses[0] },
        { type: NAME_ATTRIBUTES.O.oid, value: 'Mayfly' },
      ],
      publicKey: { type: 'EC', curve: 'P-256', bits: 256, spki, keyObject: publicKey },
      names,
    },
    { validityMs: LIFETIME_MS, backdateMs: BACKDATE_MS, keyUsage: ['digitalSignature'], extKeyUsage: ['serverAuth'], subjectAttributes: [NAME_ATTRIBUTES.O.oid], allowUnderscores: false },
  );
  return {
    key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    cert: certificatePem(issued.der) + ca.chainPem,
    notAfter: issued.notAfter,
  };
}

/** When to renew: two thirds into the certificate's life, and never sooner than a minute from now. */
export function renewalDelay(notAfter: Date, now: Date = new Date()): number {
  const remaining = notAfter.getTime() - now.getTime();
  return Math.max(60_000, remaining - (LIFETIME_MS + BACKDATE_MS) / 3);
}
