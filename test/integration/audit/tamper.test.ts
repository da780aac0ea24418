// The ledger's tampering suites on SQLite, with the CLI's; tamper_postgres.full.test.ts runs the
// same suites on PostgreSQL (`npm run test:full`, which CI runs too).
import { tamperSuites } from './tamper_suite';

tamperSuites(['sqlite'], true);
