import type { AgentConfig } from './agent_config';
import { readStatus } from './agent_status';
import { readCurrentCertificate } from './certificate_files';
import { formatDuration } from './clock';

/** `mayfly agent status`: the lines to print, and whether every certificate is in place and unexpired. */
export interface StatusReport {
  readonly lines: readonly string[];
  readonly healthy: boolean;
}

/**
 * Each certificate as it is on disk (the truth a service reads), with what the agent recorded beside
 * it: the next planned attempt, the last success and the last error.
 */
export async function statusReport(config: AgentConfig, now: number = Date.now()): Promise<StatusReport> {
  const lines: string[] = [];
  let healthy = true;
  const when = (iso: string) => {
    const offset = Date.parse(iso) - now;
    return `${iso} (${offset >= 0 ? `in ${formatDuration(offset)}` : `${formatDuration(-offset)} ago`})`;
  };
  for (const entry of config.certificates) {
    const [current, status] = await Promise.all([readCurrentCertificate(entry.paths, now), readStatus(entry.paths)]);
    let certificate: string;
    if (current.status === 'missing') certificate = 'none yet';
    else if (current.status === 'unusable') certificate = `unusable: ${current.reason}`;
    else {
      const notAfter = current.current.notAfter.toISOString();
      certificate = `serial ${current.current.certificate.serialNumber.toLowerCase()}, ${current.current.notAfter.getTime() > now ? 'expires' : 'EXPIRED'} ${when(notAfter)}`;
    }
    if (current.status !== 'present' || current.current.notAfter.getTime() <= now) healthy = false;
    const overdue = status.nextAttempt !== undefined && Date.parse(status.nextAttempt) < now ? '; overdue: is the agent running?' : '';
    const error = status.lastError;
    lines.push(
      `${entry.name}: ${entry.paths.cert}`,
      `  certificate:  ${certificate}`,
      `  next renewal: ${status.nextAttempt ? `${when(status.nextAttempt)}${overdue}` : 'not planned (no agent has run in daemon mode with this certificate)'}`,
      `  last success: ${status.lastSuccess ? when(status.lastSuccess) : 'none recorded'}`,
      `  last error:   ${error ? `${when(error.at)}, ${error.failures} failure(s) in a row: ${error.message}` : 'none'}`,
    );
  }
  return { lines, healthy };
}
