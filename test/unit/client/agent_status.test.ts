import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLog } from '../../../src/client/agent_log';
import { applyEvent, readStatus, StatusRecorder, statusFile } from '../../../src/client/agent_status';

describe('the agent\'s status file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-status-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('counts failures in a row until a success clears them, and keeps the plan a failure made', () => {
    const failed = applyEvent(applyEvent({}, { kind: 'failed', at: 0, message: 'down' }), { kind: 'failed', at: 1000, message: 'still down' });
    expect(failed).toEqual({ lastError: { at: '1970-01-01T00:00:01.000Z', message: 'still down', failures: 2 } });
    const planned = applyEvent(failed, { kind: 'planned', at: 5000 });
    expect(planned.nextAttempt).toBe('1970-01-01T00:00:05.000Z');
    expect(planned.lastError?.failures).toBe(2);
    expect(applyEvent(planned, { kind: 'renewed', at: 9000 })).toEqual({ lastSuccess: '1970-01-01T00:00:09.000Z' });
  });

  it('writes events in order beside the certificate, merged into what an earlier agent left', async () => {
    const paths = { cert: join(dir, 'web.pem') };
    writeFileSync(statusFile(paths), JSON.stringify({ lastSuccess: '2026-01-01T00:00:00.000Z' }));
    const recorder = new StatusRecorder(() => undefined);
    void recorder.record('web', paths, { kind: 'failed', at: 0, message: 'refused' });
    void recorder.record('web', paths, { kind: 'planned', at: 60_000 });
    await recorder.settled();
    expect(statusFile(paths)).toBe(join(dir, 'web.pem.status.json'));
    expect(await readStatus(paths)).toEqual({ lastSuccess: '2026-01-01T00:00:00.000Z', lastError: { at: '1970-01-01T00:00:00.000Z', message: 'refused', failures: 1 }, nextAttempt: '1970-01-01T00:01:00.000Z' });
  });

  it('a status that cannot be written is reported once and never fails the agent; a garbled file reads as empty', async () => {
    const garbled = { cert: join(dir, 'garbled.pem') };
    writeFileSync(statusFile(garbled), 'not json');
    expect(await readStatus(garbled)).toEqual({});
    // A folder where the file should be: no rename replaces it, not even root's.
    const paths = { cert: join(dir, 'web.pem') };
    mkdirSync(statusFile(paths));
    const reports: string[] = [];
    const recorder = new StatusRecorder((name, message) => reports.push(`${name}: ${message}`));
    await recorder.record('web', paths, { kind: 'failed', at: 0, message: 'x' });
    await recorder.record('web', paths, { kind: 'failed', at: 1, message: 'y' });
    expect(reports).toEqual([expect.stringMatching(/^web: the status cannot be written to .*web\.pem\.status\.json: /)]);
  });
});

describe('--log-format json', () => {
  it('writes one JSON object a line, the message escaped', () => {
    const lines: string[] = [];
    const log = jsonLog((line) => lines.push(line), () => new Date(0));
    log.warn('web', 'two\nlines and "quotes"');
    expect(lines).toEqual(['{"time":"1970-01-01T00:00:00.000Z","level":"warn","subject":"web","message":"two\\nlines and \\"quotes\\""}\n']);
    expect(JSON.parse(lines[0])).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'warn', subject: 'web', message: 'two\nlines and "quotes"' });
  });
});
