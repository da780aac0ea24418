// A real OpenLDAP slapd (Debian's `slapd` package) for the LDAP authentication tests: its own
// slapd.conf, database, pid file and log in a temporary folder, listening on loopback ports
// chosen at start. It never reads or writes /etc/ldap beyond the schema files, never uses the
// system slapd's ports or ldapi socket, and runs in the foreground as a child of the test.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { freePort } from './free_port';

export const SUFFIX = 'dc=mayfly,dc=test';
export const ROOT_DN = `cn=admin,${SUFFIX}`;

const SCHEMA_DIR = '/etc/ldap/schema';
const MODULE_DIR = '/usr/lib/ldap';

/** Debian puts slapd and slappasswd in /usr/sbin, which a non-root PATH often lacks. */
const sbin = (program: string): string => (existsSync(`/usr/sbin/${program}`) ? `/usr/sbin/${program}` : program);

// Neither slapd nor the tools may read the system's /etc/ldap/ldap.conf or ~/.ldaprc.
const ENV = { ...process.env, LDAPNOINIT: '1' };

/** RFC 2307 {SSHA} hash of a password, made by slappasswd. */
export function sshaPassword(password: string): string {
  // Test passwords only, so the command line may show them.
  return execFileSync(sbin('slappasswd'), ['-h', '{SSHA}', '-s', password], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString('utf8')
    .trim();
}

export interface SlapdOptions {
  /** Entries below the suffix entry (which the helper makes), as LDIF. */
  readonly ldif: string;
  /** Also listen on ldaps:// and offer StartTLS, with a certificate for 127.0.0.1 from a fresh CA. */
  readonly tls?: boolean;
  /** The root DN's password (the root DN bypasses ACLs; tests can use it to look at the data). */
  readonly rootPassword?: string;
  /** Refuse simple binds on connections weaker than TLS (`security simple_bind=128`). */
  readonly requireTlsForBind?: boolean;
}

export interface Slapd {
  /** ldap://127.0.0.1:PORT */
  readonly url: string;
  /** ldaps://127.0.0.1:PORT, when started with tls. */
  readonly ldapsUrl?: string;
  /** The CA certificate (PEM file) that issued the server's certificate, when started with tls. */
  readonly caFile?: string;
  readonly dir: string;
  readonly pid: number;
  /** SIGSTOP: the kernel still accepts connections, but nothing answers them. Resolves once every thread has stopped. */
  pause(): Promise<void>;
  resume(): void;
  /** Stops the server and waits for it to exit; the folder stays (for its log). */
  stop(): Promise<void>;
  /** Stops the server if running and removes the folder. */
  cleanup(): Promise<void>;
  /** slapd's own log (errors only), for failure messages. */
  log(): string;
}

const running = new Set<ChildProcess>();
// A test file that dies before its afterAll must not leave a slapd behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function makeTlsFiles(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  };
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Mayfly test LDAP CA']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  // Only the IP address: a client that checks the certificate against another name fails.
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'server.ext', '-out', 'server.pem']);
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
}

function slapdConf(dir: string, options: SlapdOptions, tls?: { caFile: string; certFile: string; keyFile: string }): string {
  return [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((schema) => `include ${join(SCHEMA_DIR, `${schema}.schema`)}`),
    `modulepath ${MODULE_DIR}`,
    'moduleload back_mdb',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    // Accept a DN with an empty password as an anonymous bind (RFC 4513 5.1.2), as many servers
    // do: the hole Anchor fell into. The tests prove the authenticator never sends one.
    'allow bind_anon_dn',
    ...(tls ? [`TLSCACertificateFile ${tls.caFile}`, `TLSCertificateFile ${tls.certFile}`, `TLSCertificateKeyFile ${tls.keyFile}`] : []),
    'database mdb',
    'maxsize 16777216',
    `suffix "${SUFFIX}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${sshaPassword(options.rootPassword ?? 'root-secret')}`,
    ...(options.requireTlsForBind ? ['security simple_bind=128'] : []),
    `directory ${join(dir, 'data')}`,
    'access to attrs=userPassword by anonymous auth by self write by * none',
    // Anyone, bound or not, may read the rest, groups included.
    'access to * by * read',
    '',
  ].join('\n');
}

async function waitUntilAnswering(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`slapd exited at start:\n${log()}`);
    const client = new Client({ url, timeout: 1000, connectTimeout: 1000 });
    try {
      await client.search('', { scope: 'base', attributes: ['namingContexts'] });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`slapd did not answer on ${url} within 15 s (${(error as Error).message}):\n${log()}`);
    } finally {
      await client.unbind().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts a slapd with the given entries; call cleanup() in afterAll. */
export async function startSlapd(options: SlapdOptions): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-slapd-'));
  try {
    mkdirSync(join(dir, 'data'));
    const tls = options.tls ? makeTlsFiles(dir) : undefined;
    const conf = join(dir, 'slapd.conf');
    writeFileSync(conf, slapdConf(dir, options, tls));
    const ldif = join(dir, 'data.ldif');
    writeFileSync(ldif, `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: mayfly\no: Mayfly\n\n${options.ldif.trim()}\n`);
    // slapadd loads the database offline, before the server opens it.
    execFileSync(sbin('slapadd'), ['-f', conf, '-l', ldif], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    // A port picked free can be taken before slapd binds it: try again with others.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await launch(dir, conf, tls);
      } catch (error) {
        if (attempt >= 3 || !/errno=98|Address already in use/.test((error as Error).message)) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(dir: string, conf: string, tls: { caFile: string } | undefined): Promise<Slapd> {
  const url = `ldap://127.0.0.1:${await freePort()}`;
  const ldapsUrl = tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  const logFile = join(dir, 'slapd.log');
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const logFd = openSync(logFile, 'w');
  // -d keeps slapd in the foreground (no fork), so the child is the server and its pid is ours;
  // level "none" still logs errors such as a port already taken (level 0 logs nothing).
  const child = spawn(sbin('slapd'), ['-f', conf, '-h', [url, ldapsUrl].filter(Boolean).join(' '), '-d', 'none'], { env: ENV, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  running.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await waitUntilAnswering(url, child, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    ...(ldapsUrl && tls ? { ldapsUrl, caFile: tls.caFile } : {}),
    dir,
    pid: child.pid!,
    async pause() {
      child.kill('SIGSTOP');
      // The stop takes effect as each thread next leaves the kernel: on a loaded machine a thread
      // still running could answer one more request, so wait until /proc shows them all stopped.
      const stopped = () => readdirSync(`/proc/${child.pid}/task`).every((task) => /^\d+ \(.*\) [tT] /.test(readFileSync(`/proc/${child.pid}/task/${task}/stat`, 'utf8')));
      for (const started = Date.now(); !stopped(); ) {
        if (Date.now() - started > 10_000) throw new Error('slapd did not stop on SIGSTOP within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    resume: () => void child.kill('SIGCONT'),
    stop,
    async cleanup() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log,
  };
}
