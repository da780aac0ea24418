// ACME tests run real clients (Debian's certbot, lego, uacme) against a real Mayfly over HTTPS on
// loopback; names under .mayfly.test resolve to 127.0.0.1 through a DNS server the test starts.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { runCli } from '../../helpers/cli';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../../src/audit/record';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { freePort } from '../../helpers/free_port';
import { startTestCa, type TestCa } from '../../helpers/mayfly';
import { startTestDns, type TestDnsServer } from '../../helpers/dns_server';
import { openssl, opensslVerify as verifyLeaf } from '../../helpers/openssl';
import { pemCertificateBlocks } from '../../../src/pem';
import { randomUUID } from 'node:crypto';
import type { LimitOptions } from '../../../src/http/limits';
import { createServer as createHttpServer } from 'node:http';

/** The Debian ACME clients the tests run (.ci/run installs them). */
export const CERTBOT = { executable: '/usr/bin/certbot', debianPackage: 'certbot' };
export const LEGO = { executable: '/usr/bin/lego', debianPackage: 'lego' };
export const DEHYDRATED = { executable: '/usr/bin/dehydrated', debianPackage: 'dehydrated' };

export interface AcmeTestCa {
  readonly ca: TestCa;
  readonly dns: TestDnsServer;
  /** Where validation connects for http-01 and tls-alpn-01 (the clients listen there). */
  readonly httpPort: number;
  readonly tlsAlpnPort: number;
  /** TXT records for dns-01: "name value" lines; lego's exec hook writes here. */
  readonly txtFile: string;
  /** The deny list file of the default RA. */
  readonly denyFile: string;
  /** A scratch folder for the clients. */
  readonly work: string;
  directory(ra?: string): string;
  stop(): Promise<void>;
}

export interface AcmeTestOptions {
  /** Addresses for names beyond *.mayfly.test → 127.0.0.1. */
  readonly addresses?: Readonly<Record<string, readonly string[]>>;
  /** Run `mayfly ca rotate` on the data folder before serving: the old chain becomes a previous chain. */
  readonly rotated?: boolean;
  /** Front-door limits beyond the tests' usual ones. */
  readonly limits?: Partial<LimitOptions>;
}

/**
 * A Mayfly whose `default` RA serves ACME with loopback allowed and a deny list, a `strict` RA with
 * the production validation defaults (loopback denied), and a `bound` RA that takes only accounts
 * with an external account binding; all on the test's DNS server.
 */
export async function startAcmeCa(options: AcmeTestOptions = {}): Promise<AcmeTestCa> {
  const work = mkdtempSync(join(tmpdir(), 'mayfly-acme-'));
  const txtFile = join(work, 'txt-records');
  writeFileSync(txtFile, '');
  const dns = await startTestDns({ addresses: { '*.mayfly.test': ['127.0.0.1'], ...options.addresses }, txtFile });
  const [httpPort, tlsAlpnPort] = [await freePort(), await freePort()];
  let denyFile = '';
  const validation = `http_port: ${httpPort}, tls_alpn_port: ${tlsAlpnPort}, resolver: "127.0.0.1:${dns.port}", timeout: 15s`;
  const ca = await startTestCa({
    tls: true,
    audit: true,
    acme: true,
    ...(options.limits ? { limits: options.limits } : {}),
    editConfig: (initial, dir) => {
      const yaml = options.rotated ? rotate(dir) : initial;
      denyFile = join(dir, 'deny.txt');
      writeFileSync(denyFile, '# keys and names never issued\n');
      const withAcme = yaml
        .replace('  default:\n', `  default:\n    acme: { validation: { ${validation}, allow_loopback: true } }\n`)
        .replace('    validators:\n', '    validators:\n      - deny_list: { file: deny.txt }\n');
      return `${withAcme}
  strict:
    authentication: deployers
    signing_ca: local
    validity: 1h
    acme: { validation: { ${validation} } }
    validators:
      - alternative_names_ip: { allowed_domains: [".mayfly.test"], allowed_networks: ["0.0.0.0/0", "::/0"] }
  bound:
    authentication: deployers
    signing_ca: local
    validity: 2h
    acme: { registration: eab, validation: { ${validation}, allow_loopback: true } }
    validators:
      - alternative_names: { allowed_domains: [".mayfly.test"] }
`;
    },
  });
  return {
    ca,
    dns,
    httpPort,
    tlsAlpnPort,
    txtFile,
    denyFile,
    work,
    directory: (ra = 'default') => `${ca.url}/acme/${ra}/directory`,
    async stop() {
      await ca.stop();
      await dns.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** `mayfly ca rotate` on a data folder; the rotated config. */
function rotate(dir: string): string {
  const configFile = join(dir, 'mayfly.yaml');
  const rotation = runCli(['ca', 'rotate', '--signing-ca', 'local', '--config', configFile]);
  if (rotation.status !== 0) throw new Error(`mayfly ca rotate failed: ${rotation.stderr}`);
  return readFileSync(configFile, 'utf8');
}

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs an outside client to completion (bounded); never throws for a non-zero exit. */
export function runTool(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `openssl verify` of the leaf of a served chain against Mayfly's root, the chain's other certificates as untrusted intermediates. */
export function opensslVerify(acme: AcmeTestCa, chainPem: string): string {
  const [leaf, ...intermediates] = pemCertificateBlocks(chainPem);
  const untrusted = join(acme.work, `untrusted-${randomUUID()}.pem`);
  writeFileSync(untrusted, intermediates.join('\n'));
  return verifyLeaf(leaf, acme.ca.rootFile, untrusted).output;
}

/** The serial of a PEM certificate, lowercase hex as the ledger writes it. */
export const serialOf = (pem: string): string => openssl(['x509', '-noout', '-serial'], pem).toString().trim().replace(/^serial=/, '').toLowerCase();

/** Every event in the ledger, oldest first (a reader indexes what the writer's journal holds first). */
export async function ledgerEvents(acme: AcmeTestCa): Promise<AuditEvent[]> {
  const store = new SqliteAuditStore(acme.ca.auditDatabase, { readonly: true });
  try {
    return (await store.query({})).map((record) => JSON.parse(record.body) as AuditEvent);
  } finally {
    await store.close();
  }
}

/** Fails with the client's own output when it did not succeed. */
export function expectSucceeded(result: ToolResult): void {
  if (result.code !== 0) throw new Error(`the client exited with ${result.code}:\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-6000)}`);
}

/** The web server that answers http-01 for the tests: the key authorization of each token set in `answers`. */
export interface Http01Responder {
  readonly answers: Map<string, string>;
  close(): Promise<void>;
}

export async function startHttp01Responder(port: number): Promise<Http01Responder> {
  const answers = new Map<string, string>();
  const web = createHttpServer((request, response) => {
    const token = (request.url ?? '').split('/').pop() ?? '';
    response.writeHead(answers.has(token) ? 200 : 404).end(answers.get(token) ?? '');
  });
  await new Promise<void>((resolve) => web.listen(port, '127.0.0.1', resolve));
  return { answers, close: () => new Promise<void>((resolve) => web.close(() => resolve())) };
}
