import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { CA_KEY_TYPES, type CaKeyType } from '../../issuance/ca_key_type';
import { dataDir } from '../data_dir';
import { shellWord } from '../shell_word';
import { print } from './output';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a development CA, a commented config and a static credential')
    .option('--dir <dir>', 'data folder (default: $MAYFLY_HOME or ./mayfly-data)')
    .addOption(new Option('--key-type <type>', 'CA key type').choices(CA_KEY_TYPES).default('p256'))
    .action(async (options: { dir?: string; keyType: CaKeyType }) => {
      // Absolute paths: what is printed works from any folder, not only the one init ran in.
      const dir = resolve(options.dir ?? dataDir());
      const { initDataDir } = require('../init') as typeof import('../init');
      const created = await initDataDir(dir, options.keyType);
      print(`Created ${created.configFile} with a ${options.keyType} development CA.`);
      print(`Root SHA-256 fingerprint: ${created.rootFingerprintSha256}`);
      print(`The secret of user "deployer" is shown once: ${created.secret} (also in ${join(dir, 'dev-credentials')}, mode 0600)`);
      print(`Serve it with: MAYFLY_HOME=${shellWord(dir)} mayfly serve   (it then prints the commands that request a certificate)`);
    });
}
