// The ledger's tampering suites (tamper_suite.ts) on PostgreSQL: the same tampering, the same findings.
import { tamperSuites } from './tamper_suite';

tamperSuites(['postgres'], false);
