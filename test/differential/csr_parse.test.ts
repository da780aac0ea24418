// The CSR reader's differential test (csr_parse.ts) on 1,000 generated requests, enough for every
// variation the generator claims; `npm run test:full` reads 2,000.
import { differentialCsrParse } from './csr_parse';

differentialCsrParse(1_000);
