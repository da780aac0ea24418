import { Command } from 'commander';
import { errorMessage } from '../error_message';
import { registerAgent } from './commands/agent';
import { registerRequest } from './commands/request';

// The entry of the mayfly-client package (client/build.mjs bundles it into one file): `mayfly
// request` and `mayfly agent` as the full `mayfly` has them, and nothing of the server, so a service
// host needs Node only: no native module, no build.

declare const MAYFLY_CLIENT_VERSION: string;

export function main(argv: readonly string[]): void {
  const program = new Command('mayfly').description('Mayfly\'s client: get certificates (request) and keep them fresh (agent).').version(MAYFLY_CLIENT_VERSION);
  registerRequest(program);
  registerAgent(program);
  program.parseAsync([...argv]).catch((error: unknown) => {
    process.stderr.write(`mayfly: ${errorMessage(error)}\n`);
    process.exit(1);
  });
}

main(process.argv);
