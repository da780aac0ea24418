import type { AuditOutcome } from './record';

/** Every outcome a record can have, for filters to offer and check (its own file: the CLI lists them without loading the ledger). */
export const OUTCOMES = ['issued', 'refused', 'error', 'accepted'] as const satisfies readonly AuditOutcome[];
