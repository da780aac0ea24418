// The public-key fuzz (key_fuzz.ts) at the size of the daily `npm test` (4,000 keys in process, 400 over
// HTTP: every mutation family several times over); `npm run test:full` runs 100,000 + 2,000.
import { fuzzPublicKeys } from './key_fuzz';

fuzzPublicKeys({ cases: 4_000, httpCases: 400 });
