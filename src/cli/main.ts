import { Command } from 'commander';
import { version } from '../../package.json';
import { errorMessage } from '../error_message';
import { ConfigError } from '../config/config_error';
import { SignerConfigError } from '../signers/signer';
import { registerAgent } from './commands/agent';
import { registerAudit } from './commands/audit';
import { registerCa } from './commands/ca';
import { registerConfig } from './commands/config';
import { registerHashSecret } from './commands/hash_secret';
import { registerInit } from './commands/init';
import { registerPkcs11 } from './commands/pkcs11';
import { registerPolicy } from './commands/policy';
import { registerRequest } from './commands/request';
import { registerServe } from './commands/serve';
import { registerToken } from './commands/token';

/** Errors a user can fix are printed as they are; anything else without its stack. */
function fail(error: unknown): never {
  if (error instanceof ConfigError) process.stderr.write(`mayfly: the config has errors:\n${error.message}\n`);
  else if (error instanceof SignerConfigError) process.stderr.write(`mayfly: ${error.message}\n`);
  else process.stderr.write(`mayfly: ${errorMessage(error)}\n`);
  process.exit(1);
}

/** Whether npm built the native core (src/csr/native_core.ts): found, not loaded, so that --help loads nothing more. */
function nativeCoreBuilt(): boolean {
  try {
    require.resolve('mayfly-native/build/Release/mayfly_native.node');
    return true;
  } catch {
    return false;
  }
}

/**
 * The `mayfly` command: each command group registers itself from src/cli/commands/, in --help's order.
 * Registering loads options and help texts only; an action `require`s its implementation when it runs,
 * so `mayfly --help` or `mayfly request` does not load the server (~900 modules, ~0.8 s CPU).
 */
export function buildProgram(): Command {
  const program = new Command('mayfly')
    .description('A short-lived certificate authority: policy in YAML, every decision audited.')
    // The Node too, and whether the native core was built: the runtime is part of what a bug report
    // or a benchmark result needs to name.
    .version(`mayfly ${version} (node ${process.version}, ${nativeCoreBuilt() ? 'native core' : 'no native core: npm ci builds it'})`, '-V, --version', "print Mayfly's version, the Node.js it runs on and whether its native core is built");
  for (const register of [registerServe, registerInit, registerHashSecret, registerPkcs11, registerToken, registerAudit, registerCa, registerPolicy, registerConfig, registerRequest, registerAgent]) {
    register(program);
  }
  return program;
}

/**
 * Runs the command line; the `mayfly` bin and `npm start` both come here. Settles when the command's
 * action has (test/helpers/cli_in_process.ts waits for it; the bin does not).
 */
export function main(argv: readonly string[]): Promise<unknown> {
  // `mayfly audit export | head`: the reader has what it wanted; stop quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? process.exit(0) : fail(error)));
  return buildProgram().parseAsync([...argv]).catch(fail);
}

if (require.main === module) main(process.argv);
