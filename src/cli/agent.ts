import { RenewalAgent } from '../client/agent';
import { loadAgentConfig } from '../client/agent_config';
import { agentLog, type LogFormat } from '../client/agent_log';
import { ClientUsageError, EXIT_CODES, exitCodeOf } from '../client/errors';
import { statusReport } from '../client/status_report';
import { parseDuration } from '../config/duration';
import { ConfigError } from '../config/source';
import { errorMessage } from '../error_message';

export interface AgentCliOptions {
  readonly config: string;
  readonly once?: boolean;
  readonly check?: boolean;
  readonly timeout: string;
  readonly logFormat: LogFormat;
}

/** A config error as the user reads it: each problem on its own line, with file:line:column and key. */
const configProblems = (error: unknown): string => (error instanceof ConfigError ? `the agent config has errors:\n${error.message}` : errorMessage(error));

/**
 * `mayfly agent`: with --check, returns 0 when the config is usable (2 when not); with --once, the
 * exit code once every certificate is in place (or cannot be); otherwise runs until SIGTERM or
 * SIGINT and returns undefined, leaving the process running. With `--log-format json` every line it
 * writes, its own messages included, is a JSON object.
 */
export async function runAgent(options: AgentCliOptions, print: (line: string) => void, printError: (line: string) => void): Promise<number | undefined> {
  const log = agentLog(options.logFormat);
  const report = (level: 'info' | 'error', message: string) => (options.logFormat === 'json' ? log[level]('agent', message) : printError(`mayfly: ${message}`));
  let agent: RenewalAgent;
  try {
    const timeoutMs = parseDuration(options.timeout);
    if (timeoutMs === undefined) throw new ClientUsageError(`--timeout ${options.timeout} is not a duration such as 5m`);
    if (options.check && options.once) throw new ClientUsageError('give --check or --once, not both');
    const config = await loadAgentConfig(options.config, process.env, { folders: options.check === true });
    if (options.check) {
      print(`${config.file} is usable: ${config.certificates.length} certificate(s) (${config.certificates.map((entry) => entry.name).join(', ')}) from ${config.server.origin}`);
      return EXIT_CODES.ok;
    }
    agent = new RenewalAgent(config, log);
    if (options.once) {
      const result = await agent.runOnce(timeoutMs);
      await agent.stop();
      return result.exitCode;
    }
  } catch (error) {
    report('error', configProblems(error));
    return error instanceof ConfigError ? EXIT_CODES.usage : exitCodeOf(error);
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
        next = new RenewalAgent(await loadAgentConfig(options.config), log);
      } catch (error) {
        report('error', `kept the running agent; ${options.config} has errors:\n${error instanceof ConfigError ? error.message : errorMessage(error)}`);
        return;
      }
      await agent.stop();
      agent = next;
      try {
        await agent.start();
      } catch (error) {
        // The old agent is stopped: exit, so the supervisor (systemd, Docker) starts a clean one.
        report('error', `the reloaded agent could not start: ${errorMessage(error)}`);
        process.exit(exitCodeOf(error) || 1);
      }
      report('info', `reloaded ${options.config}`);
    });
  });
  return undefined;
}

/**
 * `mayfly agent status`: each certificate, its expiry, the next renewal and the last error. Exits 0
 * when every certificate is in place and unexpired, 1 when one is not, 2 when the config is unusable.
 * Secrets are not needed (nor checked): an operator runs it from a shell without the service's environment.
 */
export async function runAgentStatus(options: AgentCliOptions, print: (line: string) => void, printError: (line: string) => void): Promise<number> {
  try {
    if (options.once || options.check) throw new ClientUsageError('agent status takes no --once or --check');
    const { lines, healthy } = await statusReport(await loadAgentConfig(options.config, process.env, { environment: false }));
    for (const line of lines) print(line);
    return healthy ? EXIT_CODES.ok : 1;
  } catch (error) {
    printError(`mayfly: ${configProblems(error)}`);
    return error instanceof ConfigError ? EXIT_CODES.usage : exitCodeOf(error);
  }
}
