import { execFileSync } from 'node:child_process';
import { createPublicKey, pbkdf2, randomBytes, verify, X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { ConfigError } from '../../../src/config/load';
import { Pkcs11Signer } from '../../../src/signers/pkcs11/signer';
import { SignerUnavailableError } from '../../../src/signers/signer';
import { runCli } from '../../helpers/cli';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr, openssl, opensslText, opensslVerify } from '../../helpers/openssl';
import { SOFTHSM_MODULE, softHsm } from '../../helpers/softhsm';

// The signers in this process read the PIN through the config's pin_env, from process.env.
const hsm = softHsm();
const PIN = '4711-secret-pin';
process.env.MAYFLY_TEST_PIN = PIN;
hsm.initToken('mayfly', PIN);
// Made before the module loads in this process, which sees only the tokens there at its first C_Initialize.
const SWAP_TOKEN = 'mayfly-swap';
hsm.initToken(SWAP_TOKEN, PIN);

const initCa = (args: string[]) => runCli(['pkcs11', 'init-ca', '--module', SOFTHSM_MODULE, '--token-label', 'mayfly', '--pin-env', 'MAYFLY_TEST_PIN', ...args], { env: { ...hsm.env, MAYFLY_TEST_PIN: PIN } });

/** The YAML of a pkcs11 signing_ca entry; `overrides` replace its default lines. */
function hsmSigningCa(name: string, cert: string, overrides: Record<string, string> = {}): string {
  const fields = { backend: 'pkcs11', module: SOFTHSM_MODULE, token_label: 'mayfly', key_label: 'issuing-p256', pin_env: 'MAYFLY_TEST_PIN', cert, ...overrides };
  return `  ${name}:\n${Object.entries(fields).map(([key, value]) => `    ${key}: ${JSON.stringify(value)}\n`).join('')}`;
}

// SoftHSM numbers sessions and objects from one counter, per process: probing the handles counts
// the sessions open in this process, whichever signer opened them. A session opened now gets the
// next number, so every open one is below it (the counter starts again when the module is
// re-initialised).
const probe = new pkcs11js.PKCS11();
probe.load(SOFTHSM_MODULE);
function openSessions(): number {
  const slot = probe.C_GetSlotList(true).find((s) => probe.C_GetTokenInfo(s).label.trim() === 'mayfly')!;
  const marker = probe.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
  const newest = marker.readBigUInt64LE();
  probe.C_CloseSession(marker);
  let open = 0;
  for (let handle = 1n; handle < newest; handle++) {
    const session = Buffer.alloc(8);
    session.writeBigUInt64LE(handle);
    try {
      probe.C_GetSessionInfo(session);
      open += 1;
    } catch {
      /* not a session */
    }
  }
  return open;
}

/** Adds signing CAs and an RA per signing CA (named like it, with the default RA's policy). */
function withHsm(entries: string[], ras: string[]) {
  return (yaml: string) => {
    const policy = yaml.slice(yaml.indexOf('    valid_hours:'));
    return yaml.replace('signing_ca:\n', `signing_ca:\n${entries.join('')}`) + ras.map((ra) => `  ${ra}:\n    authentication: deployers\n    signing_ca: ${ra}\n${policy}`).join('');
  };
}

describe('CA keys in a SoftHSM2 token', () => {
  let ca: TestCa;
  beforeAll(async () => {
    // P-256: a key generated in the token, its CSR signed by an offline root (the dev root, with OpenSSL).
    ca = await startTestCa({
      editConfig: (yaml, dir) => {
        const csr = join(dir, 'ca', 'hsm-p256.csr');
        const generated = initCa(['--key-label', 'issuing-p256', '--key-type', 'p256', '--subject', '/CN=Mayfly HSM Issuing CA/O=Mayfly', '--csr', csr]);
        expect(generated.stderr).toBe('');
        const extensions = join(dir, 'ca', 'intermediate.ext');
        writeFileSync(extensions, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
        const certificate = openssl(['x509', '-req', '-in', csr, '-CA', join(dir, 'ca', 'root.pem'), '-CAkey', join(dir, 'ca', 'root.key'), '-days', '30', '-extfile', extensions]).toString();
        writeFileSync(join(dir, 'ca', 'hsm-p256.pem'), certificate + readFileSync(join(dir, 'ca', 'root.pem'), 'utf8'));
        // RSA-2048: a self-signed CA whose key lives in the token.
        const rsa = initCa(['--key-label', 'issuing-rsa', '--key-type', 'rsa2048', '--subject', '/CN=Mayfly HSM RSA CA', '--self-signed', '--out', join(dir, 'ca', 'hsm-rsa.pem')]);
        expect(rsa.status).toBe(0);
        return withHsm([hsmSigningCa('hsm_p256', 'ca/hsm-p256.pem'), hsmSigningCa('hsm_rsa', 'ca/hsm-rsa.pem', { key_label: 'issuing-rsa' })], ['hsm_p256', 'hsm_rsa'])(yaml);
      },
    });
  });
  afterAll(() => ca.stop());

  // Connection: close leaves no idle keep-alive socket behind: one the server timed out (keepAliveTimeout 5 s) while
  // openssl spawns ran would be reused by the next request and reset (ECONNRESET).
  const sign = (ra: string, csr = makeCsr().pem) =>
    postForm(`${ca.url}/v1/sign/${ra}`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr }, { Accept: 'application/json', Connection: 'close' });

  it('issues over HTTP from a P-256 token key; openssl verifies the chain to the root', async () => {
    const response = await sign('hsm_p256');
    expect(response.status).toBe(200);
    const { certificate } = (await response.json()) as { certificate: string };
    expect(opensslText(certificate)).toContain('Issuer: CN = Mayfly HSM Issuing CA, O = Mayfly');
    expect(opensslText(certificate)).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(opensslVerify(certificate, ca.rootFile, join(ca.dir, 'ca', 'hsm-p256.pem'))).toMatchObject({ ok: true });
  });

  it('signs many requests at once on its pooled sessions (the module locks across threads)', async () => {
    const csrs = Array.from({ length: 48 }, () => makeCsr().pem);
    const answers = await Promise.all(csrs.map((csr) => sign('hsm_p256', csr)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(48).fill(200));
    const serials = await Promise.all(answers.map(async (answer) => ((await answer.json()) as { serial_number: string }).serial_number));
    expect(new Set(serials).size).toBe(48);
  });

  it('issues over HTTP from an RSA-2048 token key; openssl verifies it', async () => {
    const response = await sign('hsm_rsa');
    expect(response.status).toBe(200);
    const { certificate } = (await response.json()) as { certificate: string };
    expect(opensslText(certificate)).toContain('Signature Algorithm: sha256WithRSAEncryption');
    const rsaCa = join(ca.dir, 'ca', 'hsm-rsa.pem');
    expect(opensslVerify(certificate, rsaCa, rsaCa)).toMatchObject({ ok: true });
  });

  it('generated the keys sensitive and non-extractable: the token refuses to reveal them', () => {
    const pkcs11 = new pkcs11js.PKCS11();
    pkcs11.load(SOFTHSM_MODULE);
    try {
      pkcs11.C_Initialize();
    } catch {
      /* the signers in this process initialised it already */
    }
    const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === 'mayfly')!;
    const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    try {
      pkcs11.C_Login(session, pkcs11js.CKU_USER, PIN);
    } catch {
      /* already logged in by the signers */
    }
    // The secret part of each key: CKA_VALUE for EC, CKA_PRIVATE_EXPONENT for RSA.
    for (const [label, secret] of [['issuing-p256', pkcs11js.CKA_VALUE], ['issuing-rsa', pkcs11js.CKA_PRIVATE_EXPONENT]] as const) {
      pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_LABEL, value: label }]);
      const [key] = pkcs11.C_FindObjects(session, 1);
      pkcs11.C_FindObjectsFinal(session);
      const [extractable, sensitive, neverExtractable] = pkcs11.C_GetAttributeValue(session, key, [
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
      ]);
      expect([extractable.value, sensitive.value, neverExtractable.value]).toEqual([Buffer.from([0]), Buffer.from([1]), Buffer.from([1])]);
      let revealed: unknown;
      try {
        revealed = pkcs11.C_GetAttributeValue(session, key, [{ type: secret }]);
      } catch (error) {
        revealed = (error as { code?: number }).code;
      }
      expect(revealed).toBe(pkcs11js.CKR_ATTRIBUTE_SENSITIVE);
    }
    pkcs11.C_CloseSession(session);
  });

  it('answers 503 while the token is gone, signs nothing, and recovers when it returns', async () => {
    const tokens = hsm.tokenDir;
    renameSync(tokens, `${tokens}.away`);
    try {
      const response = await sign('hsm_p256');
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe('signer_unavailable');
      expect(body.message).toMatch(/nothing was signed, try again$/);
      expect(response.headers.get('retry-after')).toBe('5');
      // The local CA keeps working meanwhile.
      const local = await sign('default');
      expect(local.status).toBe(200);
    } finally {
      renameSync(`${tokens}.away`, tokens);
    }
    const recovered = await sign('hsm_p256');
    expect(recovered.status).toBe(200);
    const { certificate } = (await recovered.json()) as { certificate: string };
    expect(opensslVerify(certificate, ca.rootFile, join(ca.dir, 'ca', 'hsm-p256.pem'))).toMatchObject({ ok: true });
  });

  describe('start-up checks, each a clear error', () => {
    const startupError = async (entry: (yaml: string) => string): Promise<string> => {
      const error = await startTestCa({ editConfig: entry }).then(
        async (other) => {
          await other.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).not.toContain(PIN);
      return message;
    };
    // Each start uses a fresh data folder: point at the P-256 CA certificate of the running one.
    const certOf = () => join(ca.dir, 'ca', 'hsm-p256.pem');
    // A refused config (at start, or on a reload) leaves no token session open.
    let sessionsBefore = 0;
    beforeEach(() => (sessionsBefore = openSessions()));
    afterEach(() => expect(openSessions()).toBe(sessionsBefore));

    it('wrong PIN', async () => {
      process.env.MAYFLY_WRONG_PIN = '0000';
      const message = await startupError(withHsm([hsmSigningCa('hsm', certOf(), { pin_env: 'MAYFLY_WRONG_PIN' })], []));
      expect(message).toMatch(/signing_ca\.hsm: PKCS#11 step 3 \(log in\): login to token 'mayfly' failed: the PIN is wrong \(PIN from environment variable MAYFLY_WRONG_PIN\)/);
    });

    it('missing token', async () => {
      const message = await startupError(withHsm([hsmSigningCa('hsm', certOf(), { token_label: 'no-such-token' })], []));
      expect(message).toMatch(/signing_ca\.hsm: PKCS#11 step 2 \(find token\): no token 'no-such-token' \(tokens present: [^)]*\); create it/);
      // In the module's slot order, which is not the order the tokens were made in.
      expect(/tokens present: ([^)]*)\)/.exec(message)![1].split(', ').sort()).toEqual(["''", "'mayfly'", "'mayfly-swap'"]);
    });

    it('wrong key label', async () => {
      const message = await startupError(withHsm([hsmSigningCa('hsm', certOf(), { key_label: 'no-such-key' })], []));
      expect(message).toMatch(/signing_ca\.hsm: PKCS#11 step 4 \(find key\): no private key labelled 'no-such-key' in token 'mayfly'/);
    });

    it('certificate and key do not match', async () => {
      const message = await startupError(withHsm([hsmSigningCa('hsm', join(ca.dir, 'ca', 'hsm-rsa.pem'))], []));
      expect(message).toMatch(/signing_ca\.hsm: PKCS#11 step 6 \(match certificate\): the key labelled 'issuing-p256' in token 'mayfly' does not match the configured certificate/);
    });

    it('a good token CA beside a bad one: the config is refused, and the good signer closes its sessions too', async () => {
      const message = await startupError(withHsm([hsmSigningCa('good', certOf()), hsmSigningCa('bad', certOf(), { token_label: 'no-such-token' })], []));
      expect(message).toMatch(/signing_ca\.bad: PKCS#11 step 2 \(find token\)/);
      expect(message).not.toMatch(/signing_ca\.good/);
    });

    it('a module that cannot be loaded', async () => {
      const message = await startupError(withHsm([hsmSigningCa('hsm', certOf(), { module: '/nonexistent/libpkcs11.so' })], []));
      expect(message).toMatch(/signing_ca\.hsm: PKCS#11 step 1 \(load module\): \/nonexistent\/libpkcs11\.so cannot be loaded/);
    });

    it('a PIN in the config itself is refused', async () => {
      const message = await startupError((yaml) => withHsm([hsmSigningCa('hsm', certOf()).replace('    pin_env: "MAYFLY_TEST_PIN"\n', `    pin: "${PIN}"\n`)], [])(yaml).replace(PIN, 'x'));
      expect(message).toContain('signing_ca.hsm.pin: plaintext secrets are not accepted in the config');
    });
  });

  describe('a signer replaced by a reload', () => {
    const options = { module: SOFTHSM_MODULE, tokenLabel: 'mayfly', keyLabel: 'issuing-p256', pin: PIN, pinSource: 'environment variable MAYFLY_TEST_PIN', sessions: 3 };

    it('closes its own sessions and never the module: its successor on the same token goes on signing', async () => {
      const before = openSessions();
      const retired = await Pkcs11Signer.open(options);
      const successor = await Pkcs11Signer.open(options);
      expect(openSessions()).toBe(before + 6);
      retired.release();
      expect(openSessions()).toBe(before + 3);
      const tbs = randomBytes(200);
      const signature = await successor.sign(tbs);
      expect(verify('sha256', tbs, { key: createPublicKey({ key: Buffer.from(successor.publicKey), format: 'der', type: 'spki' }), dsaEncoding: 'der' }, signature)).toBe(true);
      // Released, it refuses rather than reconnecting (which would re-initialise the shared module).
      await expect(retired.sign(tbs)).rejects.toThrow(new SignerUnavailableError('this signer was replaced by a configuration reload; nothing was signed, try again'));
      expect(openSessions()).toBe(before + 3);
      successor.release();
      expect(openSessions()).toBe(before);
      // The running CA's own signer was not touched.
      expect((await sign('hsm_p256')).status).toBe(200);
    });

    it('a signer refused at start (wrong PIN, wrong key, wrong certificate) leaves no session open', async () => {
      const before = openSessions();
      const rsaCertificate = new X509Certificate(readFileSync(join(ca.dir, 'ca', 'hsm-rsa.pem')));
      await expect(Pkcs11Signer.open({ ...options, pin: '0000' })).rejects.toThrow(/step 3 \(log in\)/);
      await expect(Pkcs11Signer.open({ ...options, keyLabel: 'no-such-key' })).rejects.toThrow(/step 4 \(find key\)/);
      await expect(Pkcs11Signer.open(options, rsaCertificate.publicKey)).rejects.toThrow(/step 6 \(match certificate\)/);
      expect(openSessions()).toBe(before);
    });

    it('a key that fails the test signature is refused without re-initialising the module under the running signers', async () => {
      // A key pair the token will not sign with (CKA_SIGN false).
      const slot = probe.C_GetSlotList(true).find((s) => probe.C_GetTokenInfo(s).label.trim() === 'mayfly')!;
      const session = probe.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        const identity = [{ type: pkcs11js.CKA_LABEL, value: 'no-sign' }, { type: pkcs11js.CKA_ID, value: Buffer.from('0badc0de', 'hex') }, { type: pkcs11js.CKA_TOKEN, value: true }];
        probe.C_GenerateKeyPair(
          session,
          { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
          [...identity, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') }],
          [...identity, { type: pkcs11js.CKA_PRIVATE, value: true }, { type: pkcs11js.CKA_SIGN, value: false }, { type: pkcs11js.CKA_SENSITIVE, value: true }],
        );
      } finally {
        probe.C_CloseSession(session);
      }
      const running = await Pkcs11Signer.open(options);
      const events = { ...running.tokenEvents };
      const before = openSessions();
      await expect(Pkcs11Signer.open({ ...options, keyLabel: 'no-sign' })).rejects.toThrow(/step 5 \(test signature\): the key labelled 'no-sign' cannot sign/);
      expect(openSessions()).toBe(before);
      const tbs = randomBytes(64);
      expect(verify('sha256', tbs, { key: createPublicKey({ key: Buffer.from(running.publicKey), format: 'der', type: 'spki' }), dsaEncoding: 'der' }, await running.sign(tbs))).toBe(true);
      expect(running.tokenEvents).toEqual(events);
      running.release();
    });

    it('a fast token (SoftHSM2, P-256) signs on the event loop: its signatures never queue behind a busy libuv pool, as a slow token\'s do', async () => {
      const fast = await Pkcs11Signer.open(options);
      const pooled = await Pkcs11Signer.open({ ...options, inline: false });
      const tbs = randomBytes(100);
      const publicKey = createPublicKey({ key: Buffer.from(fast.publicKey), format: 'der', type: 'spki' });
      // Every thread of the pool busy for ~0.3 s (16 covers any UV_THREADPOOL_SIZE up to 16).
      let busyDone = 0;
      const fill = () => Array.from({ length: 16 }, () => new Promise<void>((resolve) => pbkdf2('p', 's', 300_000, 32, 'sha256', () => (busyDone += 1, resolve()))));
      let busy = fill();
      const signature = await fast.sign(tbs);
      expect({ busyTasksDoneBeforeTheSignature: busyDone }).toEqual({ busyTasksDoneBeforeTheSignature: 0 });
      expect(verify('sha256', tbs, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
      await Promise.all(busy);
      busyDone = 0;
      busy = fill();
      expect(verify('sha256', tbs, { key: publicKey, dsaEncoding: 'der' }, await pooled.sign(tbs))).toBe(true);
      expect(busyDone).toBeGreaterThan(0);
      await Promise.all(busy);
      fast.release();
      pooled.release();
    });

    it('survives the token logging the process out while signatures run: signers reconnect once the running ones end, never under them', async () => {
      // In libuv's pool, as a slow token's are: SoftHSM2's would run on the event loop, one at a time.
      const first = await Pkcs11Signer.open({ ...options, inline: false });
      const second = await Pkcs11Signer.open({ ...options, inline: false });
      const tbs = randomBytes(100);
      const publicKey = createPublicKey({ key: Buffer.from(first.publicKey), format: 'der', type: 'spki' });
      const outcomes = { verified: 0, unavailable: 0 };
      const signMany = async (signer: Pkcs11Signer) => {
        for (let i = 0; i < 250; i++) {
          try {
            expect(verify('sha256', tbs, { key: publicKey, dsaEncoding: 'der' }, await signer.sign(tbs))).toBe(true);
            outcomes.verified += 1;
          } catch (error) {
            if (!(error instanceof SignerUnavailableError)) throw error;
            outcomes.unavailable += 1;
          }
        }
      };
      // Each log-out makes every signer of the token reconnect, which re-initialises the module; done
      // while other signatures ran on libuv's threads, that freed SoftHSM's state under them (a crash).
      const slot = probe.C_GetSlotList(true).find((s) => probe.C_GetTokenInfo(s).label.trim() === 'mayfly')!;
      let logouts = 0;
      const logOutRepeatedly = async () => {
        for (let i = 0; i < 25; i++) {
          await new Promise((resolve) => setTimeout(resolve, 15));
          const session = probe.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
          try {
            probe.C_Logout(session);
            logouts += 1;
          } catch {
            /* between a reconnect's finalise and its login */
          }
          probe.C_CloseSession(session);
        }
      };
      await Promise.all([signMany(first), signMany(first), signMany(second), signMany(second), logOutRepeatedly()]);
      expect(logouts).toBeGreaterThan(5);
      expect(outcomes.verified + outcomes.unavailable).toBe(1000);
      // A signature fails only when both its attempts met a log-out.
      expect(outcomes.verified).toBeGreaterThan(900);
      expect(first.tokenEvents.logins + second.tokenEvents.logins).toBeGreaterThan(2);
      first.release();
      second.release();
    });

    it('a signer idle while another re-initialised the module connects again before it signs: with its own key, and no error', async () => {
      const ecdsa = await Pkcs11Signer.open(options);
      const rsa = await Pkcs11Signer.open({ ...options, keyLabel: 'issuing-rsa' });
      const tbs = randomBytes(100);
      const publicKeyOf = (signer: Pkcs11Signer) => createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' });
      // Logged out, the ECDSA signer's next signature fails and reconnects, which re-initialises the module.
      const slot = probe.C_GetSlotList(true).find((s) => probe.C_GetTokenInfo(s).label.trim() === 'mayfly')!;
      const session = probe.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
      probe.C_Logout(session);
      probe.C_CloseSession(session);
      expect(verify('sha256', tbs, { key: publicKeyOf(ecdsa), dsaEncoding: 'der' }, await ecdsa.sign(tbs))).toBe(true);
      expect(ecdsa.tokenEvents.errors).toBe(1);
      // The RSA signer's handles date from before: they are gone, or name the ECDSA signer's new sessions and key.
      const before = { ...rsa.tokenEvents };
      expect(verify('sha256', tbs, publicKeyOf(rsa), await rsa.sign(tbs))).toBe(true);
      expect(rsa.tokenEvents).toEqual({ errors: before.errors, logins: before.logins + 1 });
      ecdsa.release();
      rsa.release();
    });

    it('a reload with the same PIN leaves the running signer undisturbed; a wrong PIN is refused and the running signer still signs', async () => {
      const running = await Pkcs11Signer.open(options);
      const events = { ...running.tokenEvents };
      const tbs = randomBytes(64);
      const verifies = (signature: Uint8Array) => verify('sha256', tbs, { key: createPublicKey({ key: Buffer.from(running.publicKey), format: 'der', type: 'spki' }), dsaEncoding: 'der' }, signature);
      // Same PIN: no log-out, so no key handle is lost and nothing reconnects.
      const successor = await Pkcs11Signer.open(options);
      expect(verifies(await running.sign(tbs))).toBe(true);
      expect(running.tokenEvents).toEqual(events);
      // A wrong PIN can only be checked by logging out; the process logs back in with the running PIN,
      // and the running signers get through on their next signature.
      await expect(Pkcs11Signer.open({ ...options, pin: '0000' })).rejects.toThrow(/step 3 \(log in\): login to token 'mayfly' failed: the PIN is wrong/);
      expect(verifies(await running.sign(tbs))).toBe(true);
      expect(verifies(await successor.sign(tbs))).toBe(true);
      running.release();
      successor.release();
    });
  });

  it('init-ca never takes the PIN on the command line, and refuses a label in use', () => {
    const again = initCa(['--key-label', 'issuing-p256', '--key-type', 'p256', '--subject', '/CN=x', '--csr', join(ca.dir, 'again.csr')]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("token 'mayfly' already holds a key labelled 'issuing-p256'; pick another label");
    const help = runCli(['pkcs11', 'init-ca', '--help']).stdout;
    expect(help).toContain('--pin-env');
    expect(help).not.toMatch(/--pin </);
    expect(execFileSync('softhsm2-util', ['--show-slots'], { env: hsm.env }).toString()).toContain('mayfly');
  });

  // A token deleted and made again under the same label, holding another key pair under the same key
  // label: a reconnect finds it by its labels, and must not sign with it.
  describe('a token swapped under a running signer', () => {
    let swapCa: TestCa;
    let rightKey: string;
    let otherKey: string;
    let swapCert: string;
    /** Imports `keyFile` (PKCS#8) as the key 'issuing'; with `recreate`, into the token deleted and made again first. */
    const importKey = (keyFile: string, recreate: boolean) => {
      const util = (args: string[]) => execFileSync('softhsm2-util', args, { env: hsm.env, stdio: 'pipe' });
      if (recreate) {
        util(['--delete-token', '--token', SWAP_TOKEN]);
        hsm.initToken(SWAP_TOKEN, PIN);
      }
      util(['--import', keyFile, '--token', SWAP_TOKEN, '--label', 'issuing', '--id', '01', '--pin', PIN]);
    };
    beforeAll(async () => {
      swapCa = await startTestCa({
        audit: true,
        editConfig: (yaml, dir) => {
          [rightKey, otherKey, swapCert] = ['swap-right.key', 'swap-other.key', 'swap.pem'].map((file) => join(dir, 'ca', file));
          for (const file of [rightKey, otherKey]) openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
          openssl(['req', '-x509', '-new', '-key', rightKey, '-subj', '/CN=Mayfly Swap CA', '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', swapCert]);
          importKey(rightKey, false);
          return withHsm([hsmSigningCa('swap', 'ca/swap.pem', { token_label: SWAP_TOKEN, key_label: 'issuing' })], ['swap'])(yaml);
        },
      });
    });
    afterAll(() => swapCa.stop());

    const signSwap = () => postForm(`${swapCa.url}/v1/sign/swap`, { user: 'deployer', secret: swapCa.secret, encoding: 'pem', csr: makeCsr().pem }, { Accept: 'application/json', Connection: 'close' });
    const readyz = async () => {
      const response = await fetch(`${swapCa.url}/readyz`, { headers: { Connection: 'close' } });
      return { status: response.status, body: (await response.json()) as { failing: string[]; checks: Record<string, string> } };
    };
    /** The serials the ledger records as issued by the swap RA. */
    const recordedIssued = async (): Promise<string[]> => {
      const store = new SqliteAuditStore(swapCa.auditDatabase, { readonly: true });
      try {
        return (await store.query({ ra: 'swap', outcome: 'issued' })).map((record) => (JSON.parse(record.body) as { certificate: { serial: string } }).certificate.serial);
      } finally {
        await store.close();
      }
    };

    it('answers 503 and fails /readyz rather than sign with another key, records nothing issued, and recovers when the right key is back', async () => {
      const first = await signSwap();
      expect(first.status).toBe(200);
      expect(opensslVerify(((await first.json()) as { certificate: string }).certificate, swapCert, swapCert)).toMatchObject({ ok: true });
      expect(await recordedIssued()).toHaveLength(1);

      // The signer's next signature fails on the deleted token, so it reconnects: to the new one.
      importKey(otherKey, true);
      for (let i = 0; i < 3; i++) {
        const response = await signSwap();
        const body = (await response.json()) as { error: string; message: string };
        expect(response.status).toBe(503);
        expect(body.error).toBe('signer_unavailable');
        expect(body.message).toMatch(/is not the CA certificate's key \(was the token replaced\?\).*nothing was signed, try again$/);
      }
      const ready = await readyz();
      expect(ready.status).toBe(503);
      expect(ready.body.failing).toEqual(['signer swap']);
      expect(ready.body.checks['signer swap']).toBe('failing'); // the reasons go only to the ops address
      expect(await recordedIssued()).toHaveLength(1);

      // The right key is back: signing resumes, and what it signs verifies.
      importKey(rightKey, true);
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past /readyz's reuse of its last answer
      expect((await readyz()).status).toBe(200);
      const recovered = await signSwap();
      expect(recovered.status).toBe(200);
      expect(opensslVerify(((await recovered.json()) as { certificate: string }).certificate, swapCert, swapCert)).toMatchObject({ ok: true });
      expect(await recordedIssued()).toHaveLength(2);
    });
  });
});
