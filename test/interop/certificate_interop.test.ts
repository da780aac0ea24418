// The interop checks (certificate_interop.ts) on `npm test`'s slice of the matrix: every CA key type
// with a P-256 leaf, every leaf key type under a P-256 CA. `npm run test:full` checks all 30.
import { certificateInterop } from './certificate_interop';
import { DAILY_CASES } from './matrix';

certificateInterop('every CA key type × a P-256 leaf, a P-256 CA × every leaf key type', DAILY_CASES);
