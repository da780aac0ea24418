import type { Command } from 'commander';
import { configFileOf, configOption } from './config_option';
import { print } from './output';

/** The policy code, loaded only when a policy command runs. */
const policyCode = () => require('../policy') as typeof import('../policy');

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('check and try out policy without serving');
  policy
    .command('check')
    .description('load and validate the config (keys and plugins included); exit 0 when valid, 1 otherwise')
    .addOption(configOption())
    .action(async (options: { config?: string }) => policyCode().policyCheck(configFileOf(options), print));
  policy
    .command('test')
    .description('run an RA\'s validators on a CSR without signing; exit 0 pass, 2 refused')
    .addOption(configOption())
    .requiredOption('--ra <name>', 'registration authority')
    .requiredOption('--csr <file>', 'the CSR, PEM or DER')
    .option('--source-ip <ip>', 'client address the request would come from', '127.0.0.1')
    .option('--user <name>', 'requester name', 'policy-test')
    .option('--groups <a,b>', 'requester groups, comma-separated', '')
    .option('--json', 'machine-readable output')
    .action(async (options: { config?: string; ra: string; csr: string; sourceIp: string; user: string; groups: string; json?: boolean }) => {
      process.exitCode = await policyCode().policyTest(
        {
          config: configFileOf(options),
          ra: options.ra,
          csr: options.csr,
          sourceIp: options.sourceIp,
          user: options.user,
          groups: options.groups.split(',').map((g) => g.trim()).filter(Boolean),
          json: options.json === true,
        },
        print,
      );
    });
}
