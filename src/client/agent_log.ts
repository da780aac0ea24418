/** Where the agent reports, one line per event, about one certificate (by its name) or the agent itself. */
export interface AgentLog {
  info(subject: string, message: string): void;
  warn(subject: string, message: string): void;
  error(subject: string, message: string): void;
}

/**
 * Plain lines on stderr — `2026-11-23T15:29:07.000Z WARN  [web] …` — which journald and `docker logs`
 * keep as they are, and a person reads without a formatter.
 */
export function lineLog(write: (line: string) => void = (line) => void process.stderr.write(line), now: () => Date = () => new Date()): AgentLog {
  const emit = (level: string) => (subject: string, message: string) => write(`${now().toISOString()} ${level.padEnd(5)} [${subject}] ${message}\n`);
  return { info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR') };
}

/**
 * One JSON object per line on stderr — `{"time":"…","level":"warn","subject":"web","message":"…"}` —
 * for a log collector (`--log-format json`): the same events as lineLog.
 */
export function jsonLog(write: (line: string) => void = (line) => void process.stderr.write(line), now: () => Date = () => new Date()): AgentLog {
  const emit = (level: string) => (subject: string, message: string) => write(`${JSON.stringify({ time: now().toISOString(), level, subject, message })}\n`);
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const agentLog = (format: LogFormat): AgentLog => (format === 'json' ? jsonLog() : lineLog());
