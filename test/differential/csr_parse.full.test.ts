// The CSR reader's differential test (csr_parse.ts) on 2,000 generated requests, in `npm run test:full`.
import { differentialCsrParse } from './csr_parse';

differentialCsrParse(2_000);
