// The sign API fuzz (http_fuzz.ts) at the size of the daily `npm test` (1,000 cases); `npm run test:full` runs 20,000.
import { fuzzSignApi } from './http_fuzz';

fuzzSignApi(1_000);
