// The sign API fuzz (http_fuzz.ts) at full size, in `npm run test:full`.
import { fuzzSignApi } from './http_fuzz';

fuzzSignApi(20_000);
