import { InvalidArgumentError, Option, type Command } from 'commander';
import { OUTCOMES } from '../../audit/outcomes';
import type { FilterName } from '../../audit/query_text';
import type { AuditQuery } from '../../audit/store';
import { writeFileAtomic } from '../../atomic_file';
import { configFileOf, configOption } from './config_option';
import { print, printError } from './output';

type QueryOptions = Partial<Record<FilterName, string>> & { out?: string };

/** How filters read a user's text, loaded only when an option is given (help stays light). */
const queryText = () => require('../../audit/query_text') as typeof import('../../audit/query_text');

/** A filter's option reads its text as GET /v1/audit does; commander prints the reason. */
const filter = (name: FilterName) => (text: string) => {
  const { AuditFilterError, readFilter } = queryText();
  try {
    return readFilter(name, text, new Date());
  } catch (error) {
    if (error instanceof AuditFilterError) throw new InvalidArgumentError(error.reason);
    throw error;
  }
};

/** The filters of `audit list` and `audit export`, as a ledger query (each already read by its option). */
const queryOf = (options: QueryOptions): AuditQuery => Object.fromEntries(queryText().FILTER_NAMES.flatMap((name) => (options[name] !== undefined ? [[name, options[name]]] : [])));

const withFilters = (command: Command) =>
  command
    .addOption(configOption())
    .option('--ra <name>', 'registration authority')
    .option('--since <time>', 'from this time: 2026-11-23, 2026-11-23T10:00:00Z, 24h (ago), 7d, 30m, today, yesterday', filter('since'))
    .option('--until <time>', 'before this time (same forms; a day counts up to its end)', filter('until'))
    .option('--name <glob>', 'a DNS name, IP or subject common name, * and ? allowed, e.g. "*.payments.example.com"')
    .addOption(new Option('--outcome <outcome>').choices(OUTCOMES))
    .option('--serial <serial>', 'certificate serial, hex in any case, with or without colons or leading zeros', filter('serial'))
    .option('--user <name>', 'requester (or the user a failed login claimed), exact')
    .option('--source <address>', 'source IP address or CIDR block, e.g. 10.0.0.0/8', filter('source'))
    .option('--validator <name>', 'records this validator refused')
    .option('--out <file>', 'write to FILE instead of standard output (atomically, mode 0600: the ledger names people and hosts)');

/**
 * Where the output goes: standard output, or --out's file, replaced in one step once everything is
 * written, readable by its owner only.
 */
async function toOutput(out: string | undefined, produce: (write: (line: string) => void) => Promise<void>): Promise<void> {
  if (out === undefined) return produce(print);
  const lines: string[] = [];
  await produce((line) => lines.push(`${line}\n`));
  await writeFileAtomic(out, lines, 0o600);
}

/** The ledger's code, loaded only when an audit command runs. */
const audit = () => require('../audit') as typeof import('../audit');

export function registerAudit(program: Command): void {
  const group = program.command('audit').description('query and verify the audit ledger');
  withFilters(group.command('list').description('list decisions, oldest first'))
    .option('--json', 'machine-readable output')
    .action(async (options: { config?: string; json?: boolean } & QueryOptions) => toOutput(options.out, (write) => audit().auditList(configFileOf(options), queryOf(options), options.json === true, write)));
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
    .requiredOption('--serial <serial>', 'certificate serial, hex in any case, with or without colons or leading zeros', filter('serial'))
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
    .action(async (options: { config?: string; format: 'jsonl' | 'csv' | 'cadf' } & QueryOptions) => toOutput(options.out, (write) => audit().auditExport(configFileOf(options), options.format, queryOf(options), write)));
}
