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
  // SIGHUP (systemctl reload): read the config again; a broken one leaves the running agent as it is.
  // One reload at a time, so two agents never renew the same files.
  let reloads = Promise.resolve();
  process.on('SIGHUP', () => {
    reloads = reloads.then(async () => {
      let next: RenewalAgent;
      try {
        next = new RenewalAgent(await loadAgentConfig(options.config), lineLog());
      } catch (error) {
        printError(`mayfly: kept the running agent; ${options.config} has errors:\n${error instanceof ConfigError ? error.message : errorMessage(error)}`);
        return;
      }
      await agent.stop();
      agent = next;
      try {
        await agent.start();
      } catch (error) {
        // The old agent is stopped: exit, so the supervisor (systemd, Docker) starts a clean one.
        printError(`mayfly: the reloaded agent could not start: ${errorMessage(error)}`);
        process.exit(exitCodeOf(error) || 1);
      }
      printError(`mayfly: reloaded ${options.config}`);
    });
  });
  return undefined;
}
