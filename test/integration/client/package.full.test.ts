// The client package suite (package_suite.ts) in full, in `npm run test:full`: every key type and the
// daemon's own install beside the client.
import { describePackage } from './package_suite';

describePackage({ keyTypes: ['p256', 'p384', 'rsa2048', 'rsa3072', 'rsa4096', 'ed25519'], daemonInstall: true });
