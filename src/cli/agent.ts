import { RenewalAgent } from '../client/agent';
import { loadAgentConfig } from '../client/agent_config';
import { lineLog } from '../client/agent_log';
import { ClientUsageError, EXIT_CODES, exitCodeOf } from '../client/errors';
import { parseDuration } from '../config/duration';
import { ConfigError } from '../config/load';
import { errorMessage } from '../error_message';

export interface AgentCliOptions {
  readonly config: string;
  readonly once?: boolean;
  readonly timeout: string;
}

/**
 * `mayfly agent`: with --once, returns the exit code once every certificate is in place (or cannot
 * be); otherwise runs until SIGTERM or SIGINT and returns undefined, leaving the process running.
 */
export async function runAgent(options: AgentCliOptions, printError: (line: string) => void): Promise<number | undefined> {
  let agent: RenewalAgent;
  try {
    const timeoutMs = parseDuration(options.timeout);
    if (timeoutMs === undefined) throw new ClientUsageError(`--timeout ${options.timeout} is not a duration such as 5m`);
    const config = await loadAgentConfig(options.config);
    agent = new RenewalAgent(config, lineLog());
    if (options.once) return (await agent.runOnce(timeoutMs)).exitCode;
  } catch (error) {
    if (error instanceof ConfigError) {
      printError(`mayfly: the agent config has errors:\n${error.message}`);
      return EXIT_CODES.usage;
    }
    printError(`mayfly: ${errorMessage(error)}`);
    return exitCodeOf(error);
  }
  await agent.start();
  // Stopping waits for a renewal in progress: its files are renamed into place or not at all.
  const stop = () => void agent.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return undefined;
}
