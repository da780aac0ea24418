import type { Request } from 'express';
import type { Credentials } from '../auth/authenticator';
import type { Runtime } from '../config/assemble';
import type { Requester } from '../types';
import { authenticationFailed, HttpError } from './errors';
import type { Admission } from './limits';
import { claimedIdentity, headerCredentials } from './sign_request';

/**
 * Who may read the ledger (GET /v1/audit, the console): the first requester an authentication entry
 * accepts and names in one of its `audit_admin_groups`; 'forbidden' when entries accepted the
 * credentials but none made them an audit admin; undefined when none accepted them. Under the same
 * caps and back-off as a sign request: every authenticator tried may run a scrypt.
 */
export async function authenticateAuditAdmin(runtime: Runtime, admission: Admission, credentials: Credentials): Promise<Requester | 'forbidden' | undefined> {
  return admission.authenticate(
    claimedIdentity(credentials),
    async () => {
      let found: Requester | 'forbidden' | undefined;
      for (const entry of runtime.authenticators) {
        const requester = await entry.authenticator.authenticate(credentials);
        if (!requester) continue;
        if (requester.groups.some((group) => entry.auditAdminGroups.includes(group))) return requester;
        found = 'forbidden';
      }
      return found;
    },
    runtime.authenticators.some((entry) => entry.authenticator.costly?.(credentials) ?? true),
  );
}

/** The API's audit routes (GET /v1/audit, its checkpoint and proofs): an audit admin asks; 401 or 403 otherwise. */
export async function requireAuditAdmin(runtime: Runtime, admission: Admission, request: Request): Promise<void> {
  const admin = await authenticateAuditAdmin(runtime, admission, headerCredentials(request));
  if (admin === undefined) throw authenticationFailed();
  if (admin === 'forbidden') throw new HttpError(403, 'forbidden', 'reading the audit ledger needs an audit admin group');
}
