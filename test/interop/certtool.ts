// GnuTLS's certtool (Debian gnutls-bin) as an independent verifier: its own ASN.1 parser, path
// building and name matching (gnutls_x509_crt_check_hostname matches an IP literal to IP SANs).
import { spawnSync } from 'node:child_process';

export const CERTTOOL = '/usr/bin/certtool';

/** 'ok', or the line in which certtool says why not. */
function run(args: readonly string[], input: string): string {
  const result = spawnSync(CERTTOOL, args, { input, encoding: 'utf8' });
  const verdict = /^Chain verification output: (.*)$/m.exec(result.stdout)?.[1]?.trim();
  if (result.status === 0 && verdict?.startsWith('Verified.')) return 'ok';
  return verdict ?? `certtool exited ${result.status}: ${result.stderr.trim()}`;
}

/** `--verify-chain`: leaf first, the root last (certtool trusts the last certificate of the chain). */
export const certtoolVerifyChain = (pems: readonly string[]): string => run(['--verify-chain'], pems.join(''));

/**
 * `--verify` of leaf + intermediates against a trusted root, for a host name or IP and the
 * serverAuth purpose, at the medium profile (no keys below 112-bit security).
 */
export const certtoolVerify = (rootFile: string, pems: readonly string[], hostname: string): string =>
  run(['--verify', '--load-ca-certificate', rootFile, '--verify-hostname', hostname, '--verify-purpose', '1.3.6.1.5.5.7.3.1', '--verify-profile', 'medium'], pems.join(''));
