// The README, executed: its quick start run through bash against a real daemon in a fresh folder
// (before and after `mayfly ca rotate`), every line of its command summary checked against the
// real command, its validator table against the validators there are, and its authentication
// example loaded as a config. Docs and code cannot drift apart without this failing.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { buildProgram } from '../../src/cli/main';
import { ValidatorRegistry } from '../../src/policy/registry';
import { alwaysOnValidators } from '../../validators';
import { serveCli, type ServingCli } from '../helpers/cli';
import { runCliAsync } from '../helpers/cli_process';
import { freePort } from '../helpers/free_port';

// Each case starts real `mayfly` processes; a loaded 2-core machine can take many seconds a spawn.
jest.setTimeout(180_000);

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The text under a heading, up to the next heading of the same or a higher level. */
function section(heading: string): string {
  const lines = README.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`README has no heading ${JSON.stringify(heading)}`);
  const level = /^#+/.exec(heading)![0].length;
  const end = lines.findIndex((line, index) => index > start && /^#+ /.test(line) && /^#+/.exec(line)![0].length <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The fenced code blocks of a text, with their language. */
function codeBlocks(text: string): { language: string; body: string }[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((match) => ({ language: match[1], body: match[2] }));
}

/** A shell block as the commands it holds: continuation lines joined, comments and blanks dropped. */
const shellCommands = (block: string): string[] =>
  block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

function bash(command: string, cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd, timeout: 90_000 }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }));
  });
}

describe('README: quick start, run as written', () => {
  let work: string;
  let port: number;
  let serving: ServingCli;
  const env = () => {
    // A fresh machine: no MAYFLY_HOME, so ./mayfly-data in the folder the server starts in.
    const fresh = { ...process.env };
    delete fresh.MAYFLY_HOME;
    return fresh;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mayfly-readme-'));
    port = await freePort();
    // `npm start` is `mayfly serve` after a build; only the port differs from the README (5016 may be taken here).
    serving = await serveCli(['--listen', `127.0.0.1:${port}`], { env: env(), cwd: work });
  });
  afterAll(async () => {
    await serving?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const quickStart = () => {
    const blocks = codeBlocks(section('## Quick start')).filter((block) => block.language === 'sh');
    expect(blocks).toHaveLength(1);
    return shellCommands(blocks[0].body).map((command) => command.replaceAll('127.0.0.1:5016', `127.0.0.1:${port}`));
  };

  const runQuickStart = async (): Promise<string> => {
    for (const file of ['svc.key', 'svc.csr', 'svc.pem', 'chain.pem']) rmSync(join(work, file), { force: true });
    let output = '';
    for (const command of quickStart()) {
      const result = await bash(command, work);
      if (result.code !== 0) throw new Error(`README command failed (${result.code}): ${command}\n${result.output}`);
      output = result.output;
    }
    return output;
  };

  it('issues a certificate that the README\'s own verify step accepts', async () => {
    const commands = quickStart();
    expect(commands[0]).toMatch(/^openssl req /);
    expect(commands.at(-1)).toMatch(/^openssl verify /);
    expect(await runQuickStart()).toBe('svc.pem: OK\n');
  });

  it('still works, unchanged, after `mayfly ca rotate`', async () => {
    const rotated = await runCliAsync(['ca', 'rotate', '--signing-ca', 'local'], { env: env(), cwd: work, timeoutMs: 120_000 });
    expect(rotated.code).toBe(0);
    await serving.waitFor(/Reloaded /, 60_000);
    expect(await runQuickStart()).toBe('svc.pem: OK\n');
  });
});

describe('README: the command summary', () => {
  const program = buildProgram();
  // One entry a command: an indented line continues the one above it.
  const summary = codeBlocks(section('## The `mayfly` command'))[0].body.replace(/\n\s+(?=\S)/g, ' ').split('\n').filter((line) => line.startsWith('mayfly '));

  /** The commander command a summary line names, and the words that name it. */
  function commandOf(line: string): { command: Command; path: string[] } {
    let command: Command = program;
    const path: string[] = [];
    for (const word of line.split(/\s+/).slice(1)) {
      const sub = command.commands.find((candidate) => candidate.name() === word);
      if (!sub) break;
      command = sub;
      path.push(word);
    }
    return { command, path };
  }

  /** Every runnable command: the leaves of the tree (`audit list`, not `audit`). */
  const leaves = (command: Command, path: string[] = []): string[] =>
    command.commands.filter((sub) => sub.name() !== 'help').flatMap((sub) => (sub.commands.length > 0 ? leaves(sub, [...path, sub.name()]) : [[...path, sub.name()].join(' ')]));

  it('names every command `mayfly --help` has, and no other', () => {
    const documented = summary.map((line) => commandOf(line).path.join(' ')).filter((path) => path !== '');
    expect([...new Set(documented)].sort()).toEqual(leaves(program).sort());
  });

  it.each(summary.filter((line) => commandOf(line).path.length > 0))('%s: the options it shows exist', (line) => {
    const { command } = commandOf(line);
    const known = command.options.map((option) => option.long);
    const shown = [...line.replace(/#.*$/, '').matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((match) => match[0]);
    expect(shown.filter((option) => !known.includes(option))).toEqual([]);
  });

  it('each line\'s command runs: `mayfly COMMAND --help`', async () => {
    const paths = [...new Set(summary.map((line) => commandOf(line).path.join(' ')).filter((path) => path !== ''))];
    // A few at a time: each is a Node process, on a machine other tests share.
    for (let start = 0; start < paths.length; start += 4) {
      const results = await Promise.all(paths.slice(start, start + 4).map(async (path) => ({ path, result: await runCliAsync([...path.split(' '), '--help']) })));
      for (const { path, result } of results) {
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(`Usage: mayfly ${path} `);
      }
    }
  });

  it('mayfly --help runs', async () => {
    expect(summary).toContain('mayfly --help');
    expect((await runCliAsync(['--help'])).code).toBe(0);
  });

  // `--version` comes with the Node 24 change (issue 19): run once the program has it.
  const hasVersion = program.options.some((option) => option.long === '--version');
  (hasVersion ? it : it.skip)('mayfly --version runs and prints the version', async () => {
    expect(summary).toContain('mayfly --version');
    const result = await runCliAsync(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
  });
});

describe('README: the validator table', () => {
  const rows = [...section('### Validators').matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1]);

  it('has a row for every validator, the always-on ones included, and none that does not exist', () => {
    const registry = new ValidatorRegistry();
    const existing = [...alwaysOnValidators.map((validator) => validator.name), ...registry.names];
    expect([...rows].sort()).toEqual([...new Set(existing)].sort());
  });
});

describe('README: the authentication backends, as documented', () => {
  let home: string;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mayfly-readme-auth-'));
    expect((await runCliAsync(['init', '--dir', home])).code).toBe(0);
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('the YAML example loads, with a token made by the documented `mayfly token create`', async () => {
    const block = codeBlocks(section('#### Authentication backends')).find((candidate) => candidate.language === 'yaml')!;
    const documented = parseDocument(block.body).get('authentication', true);
    expect(documented).toBeDefined();
    const config = join(home, 'mayfly.yaml');
    const yaml = parseDocument(readFileSync(config, 'utf8'));
    yaml.set('authentication', documented);
    writeFileSync(config, yaml.toString(), { mode: 0o600 });

    const create = /`(mayfly token create [^`]+)`/.exec(section('#### Authentication backends'))![1].split(' ').slice(1);
    const token = await runCliAsync([...create, '--config', config]);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^mfy_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);

    const check = await runCliAsync(['policy', 'check', '--config', config], { env: { MAYFLY_DEPLOYER_SECRET: 'a documented secret' } });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });
});
