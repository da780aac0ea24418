// The client package suite (package_suite.ts) in the daily `npm test`: built, installed and run for
// one key type made here, a key and a CSR brought along, and the agent; `npm run test:full` adds the
// other five key types and the daemon's own install.
import { describePackage } from './package_suite';

describePackage({ keyTypes: ['p256'], daemonInstall: false });
