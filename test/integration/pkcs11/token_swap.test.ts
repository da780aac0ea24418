// A token swapped under a running signer: deleted and re-created with the same label, holding
// another key pair under the same key label. A reconnect must not sign with it.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr, openssl, opensslVerify } from '../../helpers/openssl';
import { SOFTHSM_MODULE, softHsm } from '../../helpers/softhsm';

const hsm = softHsm();
const PIN = '2718-swap-pin';
const TOKEN = 'mayfly-swap';
process.env.MAYFLY_SWAP_PIN = PIN;

/** Re-creates the token under the same label with `keyFile` (PKCS#8) imported as the key 'issuing'. */
function recreateToken(keyFile: string, deleteFirst: boolean): void {
  const util = (args: string[]) => execFileSync('softhsm2-util', args, { env: hsm.env, stdio: 'pipe' });
  if (deleteFirst) util(['--delete-token', '--token', TOKEN]);
  hsm.initToken(TOKEN, PIN);
  util(['--import', keyFile, '--token', TOKEN, '--label', 'issuing', '--id', '01', '--pin', PIN]);
}

describe('a PKCS#11 token swapped under a running signer', () => {
  let ca: TestCa;
  let rightKey: string;
  let otherKey: string;
  let caFile: string;
  beforeAll(async () => {
    ca = await startTestCa({
      audit: true,
      editConfig: (yaml, dir) => {
        rightKey = join(dir, 'ca', 'swap-right.key');
        otherKey = join(dir, 'ca', 'swap-other.key');
        caFile = join(dir, 'ca', 'swap.pem');
        for (const file of [rightKey, otherKey]) openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
        const extensions = join(dir, 'ca', 'swap.ext');
        writeFileSync(extensions, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
        openssl(['req', '-x509', '-new', '-key', rightKey, '-subj', '/CN=Mayfly Swap CA', '-days', '30', '-extensions', 'v3_ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', caFile]);
        recreateToken(rightKey, false);
        const entry = `  swap:\n    backend: pkcs11\n    module: ${SOFTHSM_MODULE}\n    token_label: ${TOKEN}\n    key_label: issuing\n    pin_env: MAYFLY_SWAP_PIN\n    cert: ca/swap.pem\n`;
        const policy = yaml.slice(yaml.indexOf('    valid_hours:'));
        return yaml.replace('signing_ca:\n', `signing_ca:\n${entry}`) + `  swap:\n    authentication: deployers\n    signing_ca: swap\n${policy}`;
      },
    });
  });
  afterAll(() => ca?.stop());

  const sign = () => postForm(`${ca.url}/v1/sign/swap`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: makeCsr().pem }, { Accept: 'application/json' });
  const readyz = async () => {
    const response = await fetch(`${ca.url}/readyz`);
    return { status: response.status, body: (await response.json()) as { failing: string[]; checks: Record<string, string> } };
  };
  /** The serials the ledger records as issued by the swap RA. */
  const recordedIssued = (): string[] => {
    const store = new SqliteAuditStore(ca.auditDatabase, { readonly: true });
    try {
      return store.query({ ra: 'swap', outcome: 'issued' }).map((record) => (JSON.parse(record.body) as { certificate: { serial: string } }).certificate.serial);
    } finally {
      store.close();
    }
  };

  it('answers 503 and fails /readyz rather than sign with another key, records nothing issued, and recovers when the right key is back', async () => {
    const first = await sign();
    expect(first.status).toBe(200);
    const { certificate } = (await first.json()) as { certificate: string };
    expect(opensslVerify(certificate, caFile, caFile)).toMatchObject({ ok: true });
    expect(recordedIssued()).toHaveLength(1);

    // The token is replaced: same token label, another key pair under the same key label. The signer's
    // next signature fails on the deleted token, and it reconnects.
    recreateToken(otherKey, true);
    for (let i = 0; i < 3; i++) {
      const response = await sign();
      const body = (await response.json()) as { error: string; message: string };
      expect(response.status).toBe(503);
      expect(body.error).toBe('signer_unavailable');
      expect(body.message).toMatch(/is not the CA certificate's key \(was the token replaced\?\).*nothing was signed, try again$/);
    }
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body.failing).toEqual(['signer swap']);
    expect(ready.body.checks['signer swap']).toBe('failing'); // reasons go only to the ops address
    expect(recordedIssued()).toHaveLength(1);

    // The right key is back: signing resumes, and what it signs verifies.
    recreateToken(rightKey, true);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past /readyz's reuse of its last answer
    expect((await readyz()).status).toBe(200);
    const recovered = await sign();
    expect(recovered.status).toBe(200);
    expect(opensslVerify(((await recovered.json()) as { certificate: string }).certificate, caFile, caFile)).toMatchObject({ ok: true });
    expect(recordedIssued()).toHaveLength(2);
  });
});
