import { Option, type Command } from 'commander';
import { LOG_FORMATS } from '../../client/agent_log';
import { runAgent, runAgentStatus, type AgentCliOptions } from '../agent';
import { print, printError, usageExit } from './output';

export function registerAgent(program: Command): void {
  const agent = program
    .command('agent')
    .description('keep certificates fresh: renew at about 2/3 of their life, retry with back-off, run hooks after each renewal')
    // `agent status --config …`: the options after `status` are its own.
    .enablePositionalOptions()
    .requiredOption('--config <file>', 'agent config (see config/examples/agent/agent.yaml)')
    .option('--once', 'get every certificate that is missing, unusable or due, then exit: 0 when all are in place (codes as for request)')
    .option('--check', 'check the config (and that the folders to write exist), print a summary and exit: 0 when usable, 2 when not')
    .option('--timeout <duration>', 'with --once: how long to keep retrying an unreachable or busy server', '5m')
    .addOption(new Option('--log-format <format>', 'text lines, or one JSON object a line').choices(LOG_FORMATS).default('text'))
    .addHelpText('after', `\nWith --once, the exit codes are those of \`mayfly request\` (0 when every certificate is in place).`)
    .exitOverride(usageExit)
    .action(async (options: AgentCliOptions) => {
      const code = await runAgent(options, print, printError);
      if (code !== undefined) process.exitCode = code;
    });
  agent
    .command('status')
    .description('each certificate: its expiry, the next renewal and the last error (from the status file the agent keeps beside it)')
    .requiredOption('--config <file>', 'agent config')
    .addHelpText('after', '\nExit codes: 0 every certificate is in place and unexpired, 1 one is not, 2 the config is unusable.')
    .exitOverride(usageExit)
    .action(async (options: { config: string }) => {
      process.exitCode = await runAgentStatus(options, print, printError);
    });
}
