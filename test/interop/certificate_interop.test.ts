// The interop checks (certificate_interop.ts) on `npm test`'s slice of the matrix: a P-256, P-384,
// RSA-2048 and Ed25519 CA with a P-256 leaf, every leaf key type under a P-256 CA. `npm run test:full`
// checks all 30, with RSA-3072 and RSA-4096 CAs too.
import { certificateInterop } from './certificate_interop';
import { DAILY_CASES } from './matrix';

certificateInterop('each CA algorithm × a P-256 leaf, a P-256 CA × every leaf key type', DAILY_CASES);
