// The interop checks (certificate_interop.ts) on the whole matrix, in `npm run test:full`.
import { certificateInterop } from './certificate_interop';
import { EVERY_CASE } from './matrix';

certificateInterop('every CA key type × every leaf key type', EVERY_CASE);
