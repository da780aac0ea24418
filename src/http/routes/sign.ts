import { hash } from 'node:crypto';
import { authFailureEvent, type RequestContext } from '../../audit/events';
import type { Ledger } from '../../audit/ledger';
import { PolicyRejection } from '../../policy/rejection';
import { issue, type RecordedCertificate } from '../../ra/issue';
import type { Protocol, RegistrationAuthority } from '../../ra/registration_authority';
import { authenticationFailed } from '../errors';
import type { Admission } from '../limits';
import type { MayflyMetrics } from '../metrics';
import { certificatePem } from '../../pem';
import { claimedIdentity, type SignBodyKind, type SignRequestFields } from '../sign_request';

/** The door a sign request came in by, from how its body came. */
export const signProtocol = (kind: SignBodyKind): Protocol => (kind === 'json' ? 'json' : kind === 'pkcs10' ? 'pkcs10' : 'anchor-form');

/**
 * POST /v1/sign/<ra>: authenticates, then hands the request to the registration authority (src/ra),
 * which decides, issues and records. Each stage throws a typed error that errors.ts turns into a status.
 */
export async function signCertificate(ra: RegistrationAuthority, ledger: Ledger, admission: Admission, metrics: MayflyMetrics, fields: SignRequestFields, protocol: Protocol): Promise<RecordedCertificate> {
  const context: RequestContext = { ra: ra.name, source: admission.source, protocol };
  const requester = await admission.authenticate(claimedIdentity(fields.credentials), () => ra.authenticator.authenticate(fields.credentials), ra.authenticator.costly?.(fields.credentials) ?? true);
  if (!requester) {
    await ledger.append(authFailureEvent(context, fields.credentials.user));
    throw authenticationFailed();
  }
  await admission.admitIdentity(`${requester.authentication}\u0000${requester.user}`);
  // Only an authenticated request takes a signing slot: overload is a fast 503 for real requests only.
  admission.enterSigning();
  const issued = await issue(ra, ledger, { requester, csr: fields.csr, source: context.source, protocol, ...(fields.validityMs !== undefined ? { validityMs: fields.validityMs } : {}) }).catch((error: unknown) => {
    if (error instanceof PolicyRejection) metrics.refused(ra.name, error.refusals.map((verdict) => verdict.validator));
    throw error;
  });
  metrics.certificateIssued(ra.name, ra.signingCa.name, issued.signatureSeconds);
  return issued;
}

/** The answer to a sign request: the certificate as PEM text, or in JSON with its chain and facts. */
export function signAnswer(ra: RegistrationAuthority, issued: RecordedCertificate, json: boolean): { readonly type: 'text/plain' | 'application/json'; readonly body: string } {
  const pem = certificatePem(issued.der);
  if (!json) return { type: 'text/plain', body: pem };
  const body = JSON.stringify({
    certificate: pem,
    chain: ra.signingCa.chainPems,
    serial_number: issued.serialNumber,
    not_before: issued.notBefore.toISOString(),
    not_after: issued.notAfter.toISOString(),
    fingerprint_sha256: hash('sha256', issued.der, 'hex'),
    // Where its record is: GET /v1/audit/proof/<serial> proves it once a checkpoint covers leaf_index.
    ...(issued.record ? { ledger_origin: issued.record.origin, ledger_chain: issued.record.chain, leaf_index: issued.record.leafIndex } : {}),
  });
  return { type: 'application/json', body };
}
