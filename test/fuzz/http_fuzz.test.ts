// The sign API fuzz (http_fuzz.ts) at the size of the daily `npm test`; `npm run test:full` runs 20,000.
import { fuzzSignApi } from './http_fuzz';

fuzzSignApi(2_000);
