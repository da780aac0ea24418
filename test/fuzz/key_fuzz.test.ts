// The public-key fuzz (key_fuzz.ts) at the size of the daily `npm test`; `npm run test:full` runs 100,000 + 2,000.
import { fuzzPublicKeys } from './key_fuzz';

fuzzPublicKeys({ cases: 10_000, httpCases: 1_000 });
