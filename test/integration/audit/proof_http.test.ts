import { createPublicKey, X509Certificate } from 'node:crypto';
import { verifyRecordProof, type RecordProof } from '../../../src/audit/record_proof';
import { parseCheckpoints } from '../../../src/audit/signed_checkpoint';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres';

const URL_ENV = 'MAYFLY_PROOF_TEST_AUDIT_URL';

/** The deployer may read the ledger; checkpoints every 3 records; on PostgreSQL, the database in URL_ENV. */
const configFor = (store: 'sqlite' | 'postgres') => (yaml: string) =>
  `${yaml.replace('    user: deployer\n', '    user: deployer\n    groups: [auditors]\n    audit_admin_groups: [auditors]\n')}\naudit:\n  checkpoint_every: 3\n${store === 'postgres' ? `  store: postgres\n  url_env: ${URL_ENV}\n` : ''}`;

describe.each(['sqlite', 'postgres'] as const)('GET /v1/audit/checkpoint and /v1/audit/proof/<serial> (%s)', (store) => {
  let ca: TestCa;
  let postgres: TestPostgres | undefined;
  let auth: Record<string, string>;
  beforeAll(async () => {
    if (store === 'postgres') {
      postgres = await startTestPostgres();
      process.env[URL_ENV] = postgres.url;
    }
    ca = await startTestCa({ audit: true, editConfig: configFor(store) });
    auth = { Authorization: `Basic ${Buffer.from(`deployer:${ca.secret}`).toString('base64')}`, Accept: 'application/json' };
  }, 60_000);
  afterAll(async () => {
    await ca?.stop();
    postgres?.destroy();
    delete process.env[URL_ENV];
  });

  const sign = (cn: string) => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: makeCsr({ subject: `/CN=${cn}`, extensions: [`subjectAltName=DNS:${cn}`] }).pem }, { Accept: 'application/json' });

  it('names the leaf of an issued certificate, proves it once sealed, and the proof checks out from its own parts', async () => {
    const issued = await sign('first.mayfly.test');
    expect(issued.status).toBe(200);
    const answer = (await issued.json()) as { certificate: string; serial_number: string; leaf_index: number; ledger_origin: string; ledger_chain: string };
    expect(answer).toMatchObject({ leaf_index: 0, ledger_origin: expect.stringMatching(/^mayfly-audit\/[0-9a-f]{8}\//) });
    expect(answer.ledger_origin.endsWith(`/${answer.ledger_chain}`)).toBe(true);
    const serial = new X509Certificate(answer.certificate).serialNumber.toLowerCase();

    // One record of three before the first checkpoint: not provable yet.
    const unsealed = await fetch(`${ca.url}/v1/audit/proof/${serial}`, { headers: auth });
    expect(unsealed.status).toBe(409);
    expect(((await unsealed.json()) as { error: string }).error).toBe('unsealed');
    expect((await fetch(`${ca.url}/v1/audit/checkpoint`, { headers: auth })).status).toBe(404);

    const second = (await (await sign('second.mayfly.test')).json()) as { leaf_index: number };
    expect(second.leaf_index).toBe(1);
    await sign('third.mayfly.test');
    // The checkpoint is signed after the third record's commit, off the request's path.
    let response = await fetch(`${ca.url}/v1/audit/proof/${serial.toUpperCase().replace(/(..)(?!$)/g, '$1:')}`, { headers: auth });
    for (let tries = 0; response.status === 409 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      response = await fetch(`${ca.url}/v1/audit/proof/${serial}`, { headers: auth });
    }
    expect(response.status).toBe(200);
    const proof = (await response.json()) as RecordProof;
    expect(proof).toMatchObject({ serial, origin: answer.ledger_origin, key_name: answer.ledger_origin, leaf_index: 0, tree_size: 3 });
    expect(proof.inclusion_proof).toHaveLength(2);
    expect((JSON.parse(Buffer.from(proof.leaf, 'base64').toString('utf8')) as { dns_names: string[] }).dns_names).toEqual(['first.mayfly.test']);
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(proof.public_key, 'base64').toString('base64url') }, format: 'jwk' });
    expect(verifyRecordProof(proof, proof.checkpoint, publicKey)).toMatchObject({ ok: true });

    const checkpoint = await fetch(`${ca.url}/v1/audit/checkpoint`, { headers: auth });
    expect(checkpoint.status).toBe(200);
    expect(checkpoint.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await checkpoint.text();
    expect(parseCheckpoints(text).map((note) => note.origin)).toContain(answer.ledger_origin);
    expect(text).toContain(proof.checkpoint);
  });

  it('answers 404 for an unknown serial, 400 for one that is not hex, 401 without credentials; refuses other methods', async () => {
    expect((await fetch(`${ca.url}/v1/audit/proof/0123456789abcdef`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${ca.url}/v1/audit/proof/abc`, { headers: auth })).status).toBe(404);
    // Serials in any form list and export take (normalizeSerial): abc is 0abc; zero and 21 octets are no serial.
    for (const bad of ['not-a-serial', '00:00', `${'7b'.repeat(21)}`]) {
      const response = await fetch(`${ca.url}/v1/audit/proof/${bad}`, { headers: auth });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('bad_serial');
    }
    expect((await fetch(`${ca.url}/v1/audit/checkpoint`)).status).toBe(401);
    expect((await fetch(`${ca.url}/v1/audit/proof/0123`, { headers: { Authorization: `Basic ${Buffer.from('deployer:wrong').toString('base64')}` } })).status).toBe(401);
    expect((await fetch(`${ca.url}/v1/audit/checkpoint`, { method: 'POST', headers: auth })).status).toBe(405);
  });
});
