import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { errorMessage } from '../../error_message';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('convert configs')
    .command('import-anchor <config.json>')
    .description('convert an OpenStack Anchor config.json to Mayfly YAML (secrets hashed); what cannot be converted is reported')
    .option('--out <file>', 'write the YAML here (mode 0600) instead of stdout')
    .action(async (file: string, options: { out?: string }) => {
      let anchor: unknown;
      try {
        anchor = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new Error(`${file} is not readable JSON: ${errorMessage(error)}`);
      }
      const { importAnchorConfig } = require('../../config/import_anchor') as typeof import('../../config/import_anchor');
      const converted = await importAnchorConfig(anchor);
      if (options.out) await writeFile(options.out, converted.yaml, { mode: 0o600, flag: 'wx' });
      else process.stdout.write(converted.yaml);
      for (const line of converted.unconverted) process.stderr.write(`not converted: ${line}\n`);
    });
}
