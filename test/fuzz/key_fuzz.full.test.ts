// The public-key fuzz (key_fuzz.ts) at full size, in `npm run test:full`.
import { fuzzPublicKeys } from './key_fuzz';

fuzzPublicKeys({ cases: 100_000, httpCases: 2_000 });
