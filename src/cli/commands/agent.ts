import { Argument, Option, type Command } from 'commander';
import { LOG_FORMATS } from '../../client/agent_log';
import { runAgent, runAgentStatus, type AgentCliOptions } from '../agent';
import { print, printError, usageExit } from './output';

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('keep certificates fresh: renew at about 2/3 of their life, retry with back-off, run hooks after each renewal; `agent status` shows each certificate')
    // A view rather than a subcommand: a subcommand's --config would be taken by the agent's own.
    .addArgument(new Argument('[view]', '`status`: each certificate, its expiry, the next renewal and the last error').choices(['status']))
    .requiredOption('--config <file>', 'agent config (see config/examples/agent/agent.yaml)')
    .option('--once', 'get every certificate that is missing, unusable or due, then exit: 0 when all are in place (codes as for request)')
    .option('--check', 'check the config (and that the folders to write exist), print a summary and exit: 0 when usable, 2 when not')
    .option('--timeout <duration>', 'with --once: how long to keep retrying an unreachable or busy server', '5m')
    .addOption(new Option('--log-format <format>', 'text lines, or one JSON object a line').choices(LOG_FORMATS).default('text'))
    .addHelpText(
      'after',
      '\nWith --once, the exit codes are those of `mayfly request` (0 when every certificate is in place).' +
        '\n`agent status` exits 0 when every certificate is in place and unexpired, 1 when one is not, 2 when the config is unusable.',
    )
    .exitOverride(usageExit)
    .action(async (view: 'status' | undefined, options: AgentCliOptions) => {
      const code = view === 'status' ? await runAgentStatus(options, print, printError) : await runAgent(options, print, printError);
      if (code !== undefined) process.exitCode = code;
    });
}
