import { Option, type Command } from 'commander';
import { TOKEN_KEY_TYPES, type TokenKeyType } from '../../signers/pkcs11/token_key_type';
import { print } from './output';

export function registerPkcs11(program: Command): void {
  program
    .command('pkcs11')
    .description('CA keys in a PKCS#11 token')
    .command('init-ca')
    .description('generate a CA key inside the token (non-extractable) and write a self-signed CA certificate or a CSR')
    .requiredOption('--module <path>', 'PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so')
    .requiredOption('--token-label <label>', 'token to use')
    .requiredOption('--key-label <label>', 'label of the new key')
    .addOption(new Option('--key-type <type>', 'key type').choices(TOKEN_KEY_TYPES).default('p256'))
    .requiredOption('--subject <dn>', 'subject, e.g. "/CN=Mayfly Issuing CA/O=Acme"')
    .option('--pin-env <VAR>', 'environment variable holding the PIN (default MAYFLY_PKCS11_PIN)')
    .option('--pin-file <file>', 'file (mode 0600) holding the PIN')
    .option('--self-signed', 'write a self-signed CA certificate (with --out)')
    .option('--out <file>', 'where the self-signed certificate goes')
    .option('--csr <file>', 'write a CSR for an external root instead')
    .option('--days <n>', 'validity of the self-signed certificate', (value) => Number(value), 3650)
    .action(async (options: { module: string; tokenLabel: string; keyLabel: string; keyType: TokenKeyType; subject: string; pinEnv?: string; pinFile?: string; selfSigned?: boolean; out?: string; csr?: string; days: number }) =>
      (require('../pkcs11') as typeof import('../pkcs11')).pkcs11InitCa(options, print),
    );
}
