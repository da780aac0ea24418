// The audit filters over real HTTP and the CLI, on SQLite; filters_postgres.full.test.ts runs the
// same suite on PostgreSQL (`npm run test:full`, which CI runs too).
import { filterSuites } from './filters_suite';

filterSuites(['sqlite']);
