import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { assembleRuntime } from '../config/assemble';
import { loadConfig } from '../config/load';
import { dryRun } from '../ra/dry_run';

export interface PolicyTestOptions {
  readonly config: string;
  readonly ra: string;
  readonly csr: string;
  readonly sourceIp: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly json: boolean;
}

export const POLICY_PASSED = 0;
export const POLICY_REFUSED = 2;

/** The CSR file's bytes, or a sentence saying why not and what to give instead. */
async function readCsrFile(file: string): Promise<Buffer> {
  return readFile(file).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'there is no such file' : error.code === 'EISDIR' ? 'it is a folder' : error.code === 'EACCES' ? 'permission denied' : 'it cannot be read';
    throw new Error(`cannot read the CSR ${resolve(file)}: ${why}. Give --csr the path of a PEM or DER CSR, e.g. one made with: openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout svc.key -out svc.csr -subj /CN=svc.example.com`);
  });
}

/** `mayfly policy test`: runs an RA's chain on a CSR file without signing; returns the exit code. */
export async function policyTest(options: PolicyTestOptions, print: (line: string) => void): Promise<number> {
  const runtime = await assembleRuntime(await loadConfig(options.config));
  const ra = runtime.registrationAuthorities.get(options.ra);
  if (!ra) throw new Error(`no registration authority named ${options.ra} (defined: ${[...runtime.registrationAuthorities.keys()].join(', ')})`);
  const run = dryRun(ra, {
    csr: await readCsrFile(options.csr),
    requester: { user: options.user, groups: options.groups, authentication: '(policy test)' },
    source: options.sourceIp,
  });
  const passed = run.passed;
  const certificate = {
    subject: run.certificate.subject,
    dns_names: run.certificate.dnsNames,
    ip_addresses: run.certificate.ipAddresses,
    not_before: run.certificate.notBefore.toISOString(),
    not_after: run.certificate.notAfter.toISOString(),
  };
  if (options.json) {
    print(JSON.stringify({
      registration_authority: ra.name,
      result: passed ? 'pass' : 'refused',
      verdicts: run.verdicts.map((verdict) => ({ validator: verdict.validator, passed: verdict.reasons.length === 0, reasons: verdict.reasons })),
      ...(passed ? { certificate } : {}),
    }, null, 2));
  } else {
    print(`Registration authority ${ra.name}, CSR ${options.csr}:`);
    for (const verdict of run.verdicts) {
      if (verdict.reasons.length === 0) print(`  pass    ${verdict.validator}`);
      for (const reason of verdict.reasons) print(`  REFUSE  ${verdict.validator}: ${reason}`);
    }
    if (passed) {
      print('Result: pass. The certificate would be:');
      print(`  subject:     ${certificate.subject || '(empty)'}`);
      for (const name of certificate.dns_names) print(`  DNS:         ${name}`);
      for (const address of certificate.ip_addresses) print(`  IP:          ${address}`);
      print(`  not before:  ${certificate.not_before}`);
      print(`  not after:   ${certificate.not_after}`);
    } else {
      print(`Result: refused by ${run.verdicts.filter((v) => v.reasons.length > 0).map((v) => v.validator).join(', ')}.`);
    }
  }
  return passed ? POLICY_PASSED : POLICY_REFUSED;
}

/** `mayfly policy check`: loads and validates the config (keys included) without serving. */
export async function policyCheck(config: string, print: (line: string) => void): Promise<void> {
  const runtime = await assembleRuntime(await loadConfig(config));
  print(`${runtime.config.source.file}: OK (registration authorities: ${[...runtime.registrationAuthorities.keys()].join(', ')})`);
}
