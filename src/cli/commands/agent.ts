import type { Command } from 'commander';
import { runAgent, type AgentCliOptions } from '../agent';
import { printError, usageExit } from './output';

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('keep certificates fresh: renew at about 2/3 of their life, retry with back-off, run hooks after each renewal')
    .requiredOption('--config <file>', 'agent config (see config/examples/agent/agent.yaml)')
    .option('--once', 'get every certificate that is missing, unusable or due, then exit: 0 when all are in place (codes as for request)')
    .option('--timeout <duration>', 'with --once: how long to keep retrying an unreachable or busy server', '5m')
    .addHelpText('after', `\nWith --once, the exit codes are those of \`mayfly request\` (0 when every certificate is in place).`)
    .exitOverride(usageExit)
    .action(async (options: AgentCliOptions) => {
      const code = await runAgent(options, printError);
      if (code !== undefined) process.exitCode = code;
    });
}
