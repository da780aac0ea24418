import 'reflect-metadata';
import { X509Certificate as NodeCertificate } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { AuthorityKeyIdentifierExtension, X509Certificate } from '@peculiar/x509';
import { certificatePem } from '../pem';
import { DenyList, keyFingerprint } from '../policy/deny_list';
import type { IssuedCertificate } from '../types';
import { newId, payloadObject, type AcmeAnswer } from './accounts';
import { accountRequester, openRequester, ownedObject, recordAcme, type AcmeContext, type VerifiedRequest } from './context';
import { importJwk } from './jwk';
import { AcmeProblem } from './problems';
import type { CertificateRecord } from './store';

/** RFC 9773 4.1: base64url(authorityKeyIdentifier keyIdentifier) "." base64url(serial DER contents). */
function certId(der: Uint8Array, serialHex: string): string {
  const aki = new X509Certificate(der).getExtension(AuthorityKeyIdentifierExtension)?.keyId ?? '';
  return `${Buffer.from(aki, 'hex').toString('base64url')}.${Buffer.from(serialHex, 'hex').toString('base64url')}`;
}

export function certificateRecord(context: AcmeContext, account: string, order: string, issued: IssuedCertificate): CertificateRecord {
  return {
    id: newId(),
    ra: context.ra.name,
    account,
    order,
    serial: issued.serialNumber,
    certId: certId(issued.der, issued.serialNumber),
    der: Buffer.from(issued.der).toString('base64'),
    spkiSha256: keyFingerprint(new NodeCertificate(issued.der).publicKey),
    notBefore: issued.notBefore.toISOString(),
    notAfter: issued.notAfter.toISOString(),
  };
}

/** The certificate an RFC 9773 certID names on this RA, if Mayfly issued it over ACME. */
export async function replacedCertificate(context: AcmeContext, id: string): Promise<CertificateRecord | undefined> {
  const [, serialPart] = /^[A-Za-z0-9_-]*\.([A-Za-z0-9_-]+)$/.exec(id) ?? [];
  if (!serialPart) throw new AcmeProblem('malformed', 'a certID is base64url(keyIdentifier).base64url(serial)');
  const [found] = await context.door.store.list('certificate', context.ra.name, Buffer.from(serialPart, 'base64url').toString('hex'));
  return found?.certId === id ? found : undefined;
}

/**
 * Certificate download (RFC 8555 7.4.2): the leaf and the issuing chain as PEM. After a rotation
 * each previous chain is offered as `Link: rel="alternate"` (`/cert/<id>/<n>`).
 */
export async function downloadCertificate(context: AcmeContext, request: VerifiedRequest, id: string, alternate: number): Promise<AcmeAnswer & { pem: string }> {
  const certificate = await ownedObject(context, request, 'certificate', id);
  const { signingCa } = context.ra;
  const chains = [signingCa.chain, ...signingCa.previousChains.map((previous) => previous.chain)];
  if (alternate >= chains.length) throw new AcmeProblem('malformed', 'no such alternate chain').withStatus(404);
  const links = chains.map((_chain, index) => index).filter((index) => index !== alternate).map((index) => `<${context.urls.certificate(id, index)}>;rel="alternate"`);
  const pem = [Buffer.from(certificate.der, 'base64'), ...chains[alternate]].map((der) => certificatePem(der)).join('');
  return { status: 200, pem, headers: links.length > 0 ? { Link: links.join(', ') } : {} };
}

/**
 * Node's serialNumber as the ledger writes serials: the INTEGER's content octets in lowercase hex,
 * two digits an octet, so a serial whose first octet is below 0x10 keeps its leading zero.
 */
export function serialHex(nodeSerial: string): string {
  const hex = nodeSerial.toLowerCase();
  return hex.length % 2 === 1 ? `0${hex}` : hex;
}

const REVOCATION_REASONS = new Set([0, 1, 3, 4, 5, 6, 8, 9, 10]);

/**
 * revokeCert (RFC 8555 7.6), signed by the account that holds the certificate or by the
 * certificate's own key. Mayfly publishes no CRL: its certificates are short-lived. Revocation puts
 * the key on the RA's deny list (and ACME's own), so nothing is issued to that key again, and is
 * recorded in the ledger.
 */
export async function revokeCertificate(context: AcmeContext, request: VerifiedRequest): Promise<AcmeAnswer> {
  const payload = payloadObject(request.jws.payload);
  if (typeof payload.certificate !== 'string') throw new AcmeProblem('malformed', 'certificate must be the base64url DER of the certificate');
  const reason = payload.reason ?? 0;
  if (typeof reason !== 'number' || !REVOCATION_REASONS.has(reason)) throw new AcmeProblem('badRevocationReason', 'reason must be an RFC 5280 CRLReason code other than 2 (cACompromise) and 7');
  const der = Buffer.from(payload.certificate, 'base64url');
  let serial: string;
  try {
    serial = serialHex(new NodeCertificate(der).serialNumber);
  } catch {
    throw new AcmeProblem('malformed', 'certificate is not a DER X.509 certificate');
  }
  const [certificate] = (await context.door.store.list('certificate', context.ra.name, serial)).filter((candidate) => candidate.der === der.toString('base64'));
  if (!certificate) throw new AcmeProblem('malformed', 'this RA issued no such certificate over ACME').withStatus(404);
  const byAccount = request.account !== undefined && request.account.id === certificate.account;
  const byKey = request.account === undefined && keyFingerprint(importJwk(request.jws.header.jwk).key) === certificate.spkiSha256;
  // A refused revocation is a decision too: recorded, naming who asked, before the client hears of it.
  const refuse = async (problem: AcmeProblem): Promise<never> => {
    const requester = request.account ? await accountRequester(context, request.account.id) : openRequester(certificate.account);
    await recordAcme(context, { requester, action: 'revoke', account: request.account?.id ?? certificate.account, order: certificate.order, serial: certificate.serial, outcome: 'refused', reason: problem.detail });
    throw problem;
  };
  if (!byAccount && !byKey) await refuse(new AcmeProblem('unauthorized', 'only the account that holds the certificate, or its key, may revoke it'));
  const at = new Date().toISOString();
  const revoked = await context.door.store.update('certificate', certificate.id, (current) => (current.revoked ? undefined : { ...current, revoked: { at, reason } }));
  if (!revoked) await refuse(new AcmeProblem('alreadyRevoked', 'the certificate is already revoked'));
  await context.door.store.insert('revoked_key', { id: newId(), ra: context.ra.name, fingerprint: certificate.spkiSha256, serial: certificate.serial, at });
  await addToDenyLists(context, certificate);
  await recordAcme(context, {
    requester: await accountRequester(context, certificate.account),
    action: 'revoke',
    account: certificate.account,
    order: certificate.order,
    serial: certificate.serial,
    outcome: 'accepted',
    reason: `revoked (reason ${reason}) by ${byAccount ? 'its account' : 'its key'}; the key is denied from now on`,
  });
  return {
    status: 200,
    body: { status: 'revoked', detail: `certificate ${certificate.serial} is revoked and its key will not be issued another certificate; Mayfly's certificates are short-lived and no CRL is published: it expires at ${certificate.notAfter}` },
  };
}

/** The RA's deny_list validators' files gain the key (sha256:…) and a comment naming the serial. */
async function addToDenyLists(context: AcmeContext, certificate: CertificateRecord): Promise<void> {
  const lists = context.ra.policy.validators.map(({ options }) => (options as { list?: unknown }).list).filter((list): list is DenyList => list instanceof DenyList);
  for (const list of lists) await appendFile(list.file, `sha256:${certificate.spkiSha256}  # revoked over ACME: serial ${certificate.serial}, ${new Date().toISOString()}\n`);
}

/**
 * ACME Renewal Information (RFC 9773): renew around two thirds of the lifetime, inside a window of a
 * sixth of it; a revoked certificate should be renewed now.
 */
export async function renewalInfo(context: AcmeContext, id: string): Promise<AcmeAnswer> {
  const certificate = await replacedCertificate(context, id);
  if (!certificate) throw new AcmeProblem('malformed', 'no certificate of this RA has that certID').withStatus(404);
  const notBefore = new Date(certificate.notBefore).getTime();
  const lifetime = new Date(certificate.notAfter).getTime() - notBefore;
  const now = Date.now();
  const [start, end] = certificate.revoked ? [now - 60_000, now] : [notBefore + (lifetime * 7) / 12, notBefore + (lifetime * 9) / 12];
  const retryAfter = Math.max(60, Math.min(6 * 3600, Math.round(lifetime / 10_000)));
  return { status: 200, body: { suggestedWindow: { start: new Date(start).toISOString(), end: new Date(end).toISOString() } }, headers: { 'Retry-After': String(retryAfter) } };
}
