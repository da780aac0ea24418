import { Option, type Command } from 'commander';
import type { AuditQuery } from '../../audit/store';
import { configFileOf, configOption } from './config_option';
import { print, printError } from './output';

interface QueryOptions {
  ra?: string;
  since?: string;
  until?: string;
  name?: string;
  outcome?: string;
  serial?: string;
}

/** A date or time as the ledger's ISO form (UTC); refuses what is not one. */
function isoTime(text: string): string {
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new Error(`${JSON.stringify(text)} is not a date or time (use ISO 8601, e.g. 2026-11-23T10:00:00Z)`);
  return new Date(time).toISOString();
}

/** The filters of `audit list` and `audit export`, as a ledger query. */
const queryOf = (options: QueryOptions): AuditQuery => ({
  ...(options.ra !== undefined ? { ra: options.ra } : {}),
  ...(options.since !== undefined ? { since: isoTime(options.since) } : {}),
  ...(options.until !== undefined ? { until: isoTime(options.until) } : {}),
  ...(options.name !== undefined ? { name: options.name } : {}),
  ...(options.outcome !== undefined ? { outcome: options.outcome } : {}),
  ...(options.serial !== undefined ? { serial: options.serial } : {}),
});

const withFilters = (command: Command) =>
  command
    .addOption(configOption())
    .option('--ra <name>', 'registration authority')
    .option('--since <time>', 'from this time (ISO 8601, e.g. 2026-11-23 or 2026-11-23T10:00:00Z)')
    .option('--until <time>', 'before this time')
    .option('--name <glob>', 'a DNS name or IP, * and ? allowed, e.g. "*.payments.example.com"')
    .addOption(new Option('--outcome <outcome>').choices(['issued', 'refused', 'error']))
    .option('--serial <serial>', 'certificate serial, hex');

/** The ledger's code, loaded only when an audit command runs. */
const audit = () => require('../audit') as typeof import('../audit');

export function registerAudit(program: Command): void {
  const group = program.command('audit').description('query and verify the audit ledger');
  withFilters(group.command('list').description('list decisions, oldest first'))
    .option('--json', 'machine-readable output')
    .action(async (options: { config?: string; json?: boolean } & QueryOptions) => audit().auditList(configFileOf(options), queryOf(options), options.json === true, print));
  group
    .command('show <which>')
    .description('one record in full, by certificate serial, sequence number, or chain:seq; the certificate decoded')
    .addOption(configOption())
    .action(async (which: string, options: { config?: string }) => {
      if (!(await audit().auditShow(configFileOf(options), which, print))) process.exitCode = 1;
    });
  group
    .command('verify')
    .description('walk every chain and checkpoint; exit 1 naming the first bad record')
    .addOption(configOption())
    .option('--checkpoint <file>', 'a checkpoint exported earlier (audit checkpoint): fail unless today\'s ledger extends it')
    .action(async (options: { config?: string; checkpoint?: string }) => {
      if (!(await audit().auditVerify(configFileOf(options), print, options.checkpoint))) process.exitCode = 1;
    });
  group
    .command('checkpoint')
    .description('print the latest signed checkpoint of every chain (C2SP signed notes), to publish elsewhere')
    .addOption(configOption())
    .action(async (options: { config?: string }) => {
      if (await audit().auditCheckpoint(configFileOf(options), (text) => process.stdout.write(text))) return;
      printError('no checkpoint yet: a writer signs one every checkpoint_every records, every checkpoint_interval and when it stops');
      process.exitCode = 1;
    });
  group
    .command('prove')
    .description("print a certificate's record with its inclusion proof and checkpoint (JSON)")
    .addOption(configOption())
    .requiredOption('--serial <serial>', 'certificate serial, hex')
    .action(async (options: { config?: string; serial: string }) => {
      if (!(await audit().auditProve(configFileOf(options), options.serial, print))) process.exitCode = 1;
    });
  group
    .command('verify-proof')
    .description('check a proof (audit prove, GET /v1/audit/proof) against a checkpoint with the audit public key: no ledger needed')
    .requiredOption('--proof <file>', 'the proof, JSON')
    .requiredOption('--checkpoint <file>', 'a signed checkpoint you trust, of the same tree size')
    .requiredOption('--public-key <file>', 'the audit public key: audit.pub, or the base64 raw key')
    .action(async (options: { proof: string; checkpoint: string; publicKey: string }) => {
      if (!(await audit().auditVerifyProof(options, print))) process.exitCode = 1;
    });
  withFilters(group.command('export').description('export records'))
    .addOption(new Option('--format <format>').choices(['jsonl', 'csv', 'cadf']).default('jsonl'))
    .action(async (options: { config?: string; format: 'jsonl' | 'csv' | 'cadf' } & QueryOptions) => audit().auditExport(configFileOf(options), options.format, queryOf(options), print));
}
