import { Option, type Command } from 'commander';
import { CA_KEY_TYPES, type CaKeyType } from '../../issuance/ca_key_type';
import { configFileOf, configOption } from './config_option';
import { print } from './output';

export function registerCa(program: Command): void {
  program
    .command('ca')
    .description('the issuing CAs')
    .command('rotate')
    .description('create a new issuing CA under the same root, beside the old one, and switch the config to it; the old chain stays served and trusted until its certificates have expired')
    .requiredOption('--signing-ca <name>', 'the signing_ca entry to rotate')
    .addOption(configOption())
    .addOption(new Option('--key-type <type>', 'new key type (default: that of the key it replaces)').choices(CA_KEY_TYPES))
    .option('--subject <dn>', 'subject, e.g. "/CN=Acme Issuing CA 2/O=Acme" (default: the current one, its CN dated today)')
    .option('--days <n>', 'validity of the new CA certificate, never past the root\'s', (value) => Number(value), 365)
    .option('--root-cert <file>', 'the root certificate (default: ca/root.pem beside the config)')
    .option('--root-key <file>', 'the root key, mode 0600 (default: ca/root.key beside the config)')
    .option('--root-passphrase-env <VAR>', 'environment variable holding the passphrase of an encrypted root key')
    .option('--out <prefix>', 'write PREFIX.pem (and PREFIX.key) (default: beside the current certificate, dated today)')
    .option('--key-label <label>', 'pkcs11: label of the new key in the token (default: the current label, dated today)')
    .option('--no-edit-config', 'write only the new key and certificate, and print the config change to make')
    .action(async (options: { signingCa: string; config?: string; keyType?: CaKeyType; subject?: string; days: number; rootCert?: string; rootKey?: string; rootPassphraseEnv?: string; out?: string; keyLabel?: string; editConfig: boolean }) => {
      if (!Number.isInteger(options.days) || options.days < 1) throw new Error('--days must be a whole number ≥ 1');
      const { rotateSigningCa } = require('../ca') as typeof import('../ca');
      await rotateSigningCa({ ...options, config: configFileOf(options) }, print);
    });
}
