import { Option, type Command } from 'commander';
import { EXIT_CODE_HELP } from '../../client/errors';
import { CLIENT_KEY_TYPES } from '../../client/key_pair';
import { runRequest, type RequestOptions } from '../request';
import { print, printError, usageExit } from './output';

export function registerRequest(program: Command): void {
  program
    .command('request')
    .description('get a certificate now: make a key here (it never leaves the host), send its CSR, check the answer, write key and certificate atomically; or bring your own key (--reuse-key) or CSR (--csr)')
    .requiredOption('--server <url>', 'the Mayfly server, e.g. https://ca.example.com:5016')
    .requiredOption('--ra <name>', 'registration authority')
    .option('--cn <name>', 'common name; also the DNS or IP subjectAltName when no --san is given')
    .option('--san <DNS:name|IP:address>', 'a subjectAltName (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .addOption(new Option('--key-type <type>', 'type of the new key (default: p256)').choices(CLIENT_KEY_TYPES))
    .requiredOption('--cert <file>', 'where the certificate goes')
    .option('--key <file>', 'where the new private key goes (mode 0600); with --reuse-key or --csr, the key you bring (mode 0600 or 0400, never rewritten)')
    .option('--reuse-key', 'use the key already in --key instead of making a new one (a key type above)')
    .option('--csr <file>', 'send this CSR (PEM or DER) as it is: its names and its key; no --cn, --san or --key-type')
    .option('--chain <file>', 'where the issuing chain goes (intermediates, without the root)')
    .option('--fullchain <file>', 'where the certificate followed by the issuing chain goes')
    .option('--user <name>', 'static credentials: user, with --secret-env')
    .option('--secret-env <VAR>', 'environment variable holding the secret (never the secret itself)')
    .option('--token-env <VAR>', 'environment variable holding a bearer token')
    .option('--mtls-cert <file>', 'authenticate with this client certificate (with --mtls-key)')
    .option('--mtls-key <file>', 'the client certificate\'s key')
    .option('--root-fingerprint <SHA256:hex>', 'trust the root with this SHA-256 fingerprint (as `mayfly init` prints it)')
    .option('--cacert <file>', 'trust the root(s) in this PEM file')
    .option('--timeout <duration>', 'how long to wait for the server', '30s')
    .addHelpText('after', `\n${EXIT_CODE_HELP}`)
    .exitOverride(usageExit)
    .action(async (options: RequestOptions) => {
      process.exitCode = await runRequest(options, print, printError);
    });
}
