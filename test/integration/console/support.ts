// The console's tests share one CA fixture: the deployer is an audit admin (group `auditors`), a
// second static entry's `viewer` is not; the ledger holds an issued and some refused decisions.
import { X509Certificate } from 'node:crypto';
import { hashSecret } from '../../../src/auth/secret_hash';
import { postForm, startTestCa, type TestCa, type TestCaOptions } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';

export const VIEWER_SECRET = 'viewer-secret-not-an-admin';
/** A CN no HTML page may show as markup: it is refused (name_syntax), and recorded. */
export const HOSTILE_CN = '<script>alert(1)</script>';

export interface ConsoleCa {
  readonly ca: TestCa;
  /** The serial of the certificate issued to api.payments.mayfly.test. */
  readonly issuedSerial: string;
}

export async function startConsoleCa(options: Omit<TestCaOptions, 'audit' | 'editConfig'> = {}): Promise<ConsoleCa> {
  const viewerHash = await hashSecret(VIEWER_SECRET);
  const ca = await startTestCa({
    ...options,
    audit: true,
    editConfig: (yaml) =>
      yaml
        .replace('    user: deployer\n', '    user: deployer\n    groups: [auditors]\n    audit_admin_groups: [auditors]\n')
        .replace('authentication:\n', `authentication:\n  viewers:\n    backend: static\n    user: viewer\n    groups: [staff]\n    secret_hash: "${viewerHash}"\n`)
        // Each record sealed by a checkpoint as soon as it is written, so the record page's proof is the ledger's.
        .concat('\naudit:\n  checkpoint_every: 1\n'),
  });
  try {
    return { ca, issuedSerial: await seedLedger(ca) };
  } catch (error) {
    await ca.stop();
    throw error;
  }
}

/** An issued decision (its serial returned), a refused key, and a refused hostile CN. */
async function seedLedger(ca: TestCa): Promise<string> {
  const sign = (csr: string) => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr });
  const issued = await sign(makeCsr({ subject: '/CN=api.payments.mayfly.test', extensions: ['subjectAltName=DNS:api.payments.mayfly.test,DNS:www.mayfly.test'] }).pem);
  if (issued.status !== 200) throw new Error(`seeding the ledger: ${issued.status} ${await issued.text()}`);
  const refusedKey = await sign(makeCsr({ keyType: 'rsa1024', subject: '/CN=weak.mayfly.test', extensions: ['subjectAltName=DNS:weak.mayfly.test'] }).pem);
  const refusedName = await sign(makeCsr({ subject: `/CN=${HOSTILE_CN.replace(/\//g, '\\/')}`, extensions: [] }).pem);
  if (refusedKey.status !== 403 || refusedName.status !== 403) throw new Error('seeding the ledger: the refusals were not refused');
  return new X509Certificate(await issued.text()).serialNumber.toLowerCase();
}

/** Signs in through the form as a browser would (same Origin); the session cookie, or the failed answer. */
export async function signIn(ca: TestCa, user: string, secret: string): Promise<{ response: Response; cookie?: string }> {
  const response = await fetch(`${ca.url}/ui/login`, {
    method: 'POST',
    body: new URLSearchParams({ user, secret, next: '/ui/search' }),
    headers: { Origin: ca.url },
    redirect: 'manual',
  });
  const setCookie = response.headers.get('set-cookie');
  return { response, ...(setCookie ? { cookie: setCookie.split(';')[0] } : {}) };
}

/** GET /v1/audit/proof/<serial> as the deployer, once the record is sealed (its writer signs the checkpoint after the commit). */
export async function sealedProof(ca: TestCa, serial: string): Promise<Response> {
  const ask = () => fetch(`${ca.url}/v1/audit/proof/${serial}`, { headers: { Authorization: `Basic ${Buffer.from(`deployer:${ca.secret}`).toString('base64')}`, Accept: 'application/json' } });
  let answer = await ask();
  for (let tries = 0; answer.status === 409 && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    answer = await ask();
  }
  return answer;
}
