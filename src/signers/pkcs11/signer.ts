import { createPublicKey, hash, randomBytes, verify, type KeyObject } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { errorMessage } from '../../error_message';
import { signatureSchemeFor } from '../algorithms';
import { SignerConfigError, SignerUnavailableError, type Signer } from '../signer';
import { rawEcdsaToDer } from './ecdsa_signature';
import { activityOf, finalize, forgetLogin, loadModule, recordLogin, reinitialise, reinitialised, type ModuleActivity } from './module';
import { describeKey, describeToken, type Pkcs11Options } from './options';
import { acquire, closeSession, findObjects, keyTemplate, openSessions, release, type Connection } from './sessions';

const DEFAULT_SESSIONS = 4;
/**
 * A token whose test signatures took less than this at the median when connecting (a software
 * token such as SoftHSM2: ~0.1 ms for P-256) signs on the event loop, as the local signer signs
 * P-256: handing each signature to libuv's thread pool and back cost more than the signature
 * (SoftHSM2 P-256: 0.65–0.7× of a key file's certificates a second through the pool, 0.8–1.0×
 * inline; 2026-12-06). A network or PCIe HSM is slower and keeps the pool: the event loop never
 * waits on it.
 */
const INLINE_SIGN_MS = 0.25;
/** Test signatures timed when connecting: their median decides (a busy machine delays a few). */
const INLINE_PROBES = 7;
/**
 * Inline signatures whose median took longer than this (the token got slow) send the connection's
 * signatures to the pool; a median over the last INLINE_WINDOW, as a busy machine delays a few.
 */
const INLINE_GIVE_UP_MS = 1;
const INLINE_WINDOW = 16;

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];
// CKA_EC_PARAMS (the named curve's OID, DER) → curve, and its uncompressed point length.
const EC_CURVES: Readonly<Record<string, { name: string; pointLength: number }>> = {
  '06082a8648ce3d030107': { name: 'P-256', pointLength: 65 },
  '06052b81040022': { name: 'P-384', pointLength: 97 },
};

const spki = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'spki' });

/**
 * A CA key held in a PKCS#11 token. Sessions are opened once and reused; when the token goes away
 * or a session or login is lost, the signer answers SignerUnavailableError (a 503: nothing signed,
 * nothing lost) and reconnects on the next request, so signing resumes when the token returns.
 */
export class Pkcs11Signer implements Signer {
  signatureAlgorithm: Uint8Array = new Uint8Array();
  publicKey: Uint8Array = new Uint8Array();
  description = '';
  private digest: string | null = null;
  private ecdsa = false;
  private connection?: Connection;
  private connecting?: Promise<Connection>;
  /** Until open() has checked the key, a failure is its answer: no reconnect (that re-initialises the shared module). */
  private opened = false;
  /** Replaced by a reload: it never connects again (reconnecting re-initialises the shared module). */
  private released = false;
  /** Module and slot of the token, once connected. */
  private token?: string;
  /** The module's generation this signer last connected in. */
  private generation = -1;
  private readonly activity: ModuleActivity;
  readonly tokenEvents = { errors: 0, logins: 0 };

  private constructor(
    private readonly pkcs11: pkcs11js.PKCS11,
    private readonly options: Pkcs11Options,
  ) {
    this.activity = activityOf(options.module);
    this.activity.initialised = true; // loadModule() has just initialised it
  }

  /**
   * Start-up checks, each failing with a message that names the step and the fix: the module loads,
   * the token is found, the PIN logs in, the key exists, it signs, and it is `expected`'s key.
   * Without `expected`, the token's own public key object is trusted (for `pkcs11 init-ca`).
   */
  static async open(options: Pkcs11Options, expected?: KeyObject): Promise<Pkcs11Signer> {
    const signer = new Pkcs11Signer(loadModule(options), options);
    try {
      const connection = await signer.connect(true);
      await signer.check(connection, expected);
      // Timed once the key's type is known (check() reads it).
      connection.inline = signer.signsFast(connection.idle[0], connection.key);
      signer.opened = true;
      return signer;
    } catch (error) {
      signer.release(); // a refused reload must not leave the token's sessions open
      throw error;
    }
  }

  /** Reads the key's type from the token (or `expected`), makes a test signature and checks it against the certificate's key. */
  private async check(connection: Connection, expected: KeyObject | undefined): Promise<void> {
    const { options } = this;
    const tokenKey = connection.publicKeyHandle ? this.tokenPublicKey(connection.idle[0], connection.publicKeyHandle) : undefined;
    const mismatch = () => new SignerConfigError(`PKCS#11 step 6 (match certificate): the key ${describeKey(options)} in ${describeToken(options)} does not match the configured certificate`);
    if (expected && tokenKey && !spki(expected).equals(spki(tokenKey))) throw mismatch();
    const publicKey = expected ?? tokenKey;
    if (!publicKey) throw new SignerConfigError(`PKCS#11: no public key object ${describeKey(options)} in the token to read the key from`);
    let scheme;
    try {
      scheme = signatureSchemeFor(publicKey);
    } catch (error) {
      throw new SignerConfigError(`PKCS#11: the key ${describeKey(options)} is of an unsupported type: ${errorMessage(error)}`);
    }
    this.digest = scheme.digest;
    this.ecdsa = publicKey.asymmetricKeyType === 'ec';
    this.signatureAlgorithm = scheme.algorithmIdentifier;
    this.publicKey = spki(publicKey);
    this.description = `PKCS#11 ${scheme.keyDescription} (${describeToken(options)}, key ${describeKey(options)})`;
    let verified: boolean;
    try {
      verified = await this.testSignature(connection.idle[0], connection.key);
    } catch (error) {
      throw new SignerConfigError(`PKCS#11 step 5 (test signature): the key ${describeKey(options)} cannot sign (${errorMessage(error)}); it needs CKA_SIGN and a supported type (EC P-256/P-384, RSA)`);
    }
    if (!verified) throw mismatch();
  }

  async sign(tbs: Uint8Array): Promise<Uint8Array> {
    const { activity } = this;
    let failed = false;
    for (;;) {
      // No new signature starts while the module is being re-initialised.
      if (activity.reinitialising) await reinitialised(activity);
      const connection = await this.connected();
      const session = await acquire(connection);
      // Re-initialised (by any signer) since this connection was made: connect again, no failure.
      if (connection.generation !== activity.generation) {
        this.drop(connection);
        continue;
      }
      try {
        if (!session) throw new Error('the connection to the token was reset');
        const signature = await this.signOn(session, connection.key, tbs, connection);
        if (this.released) this.closeSessions(connection, [session]);
        else release(connection, session);
        return signature;
      } catch (error) {
        if (!this.opened) {
          if (session) release(connection, session);
          throw error;
        }
        // The session, the login or the token is gone: drop the connection and reconnect once at
        // once (an expired login needs no restart); if that fails too, say so with a 503.
        this.tokenEvents.errors += 1;
        this.drop(connection);
        if (failed) throw new SignerUnavailableError(`the signing key is unavailable (${errorMessage(error)}); nothing was signed, try again`);
        failed = true;
      }
    }
  }

  /**
   * One signature on `session` with `key`: on the event loop when `connection` says the token is fast
   * (it stays so while they take under INLINE_GIVE_UP_MS), else in libuv's pool, counted as running
   * so no re-initialisation finalises under it.
   */
  private async signOn(session: Buffer, key: Buffer, tbs: Uint8Array, connection?: Connection): Promise<Uint8Array> {
    // ECDSA: SoftHSM has no CKM_ECDSA_SHA256, so hash here and sign the digest with CKM_ECDSA.
    const input = this.ecdsa ? hash(this.digest!, tbs, 'buffer') : Buffer.from(tbs.buffer, tbs.byteOffset, tbs.byteLength);
    let signature: Buffer;
    if (connection?.inline) {
      const timed = this.signTimed(session, key, input);
      signature = timed.signature;
      connection.inlineTimes.push(timed.ms);
      if (connection.inlineTimes.length === INLINE_WINDOW) connection.inline = median(connection.inlineTimes.splice(0)) <= INLINE_GIVE_UP_MS;
    } else {
      this.pkcs11.C_SignInit(session, this.mechanism(), key);
      const signing = this.pkcs11.C_SignAsync(session, input, Buffer.alloc(1024));
      this.activity.signing.add(signing);
      signature = await signing.finally(() => this.activity.signing.delete(signing));
    }
    return this.ecdsa ? rawEcdsaToDer(signature) : signature;
  }

  private mechanism(): pkcs11js.Mechanism {
    return { mechanism: this.ecdsa ? pkcs11js.CKM_ECDSA : pkcs11js.CKM_SHA256_RSA_PKCS };
  }

  /** One signature on the event loop, and how long it took (ms). */
  private signTimed(session: Buffer, key: Buffer, input: Buffer): { signature: Buffer; ms: number } {
    const started = performance.now();
    this.pkcs11.C_SignInit(session, this.mechanism(), key);
    const signature = this.pkcs11.C_Sign(session, input, Buffer.alloc(1024));
    return { signature, ms: performance.now() - started };
  }

  /** Whether the token signs fast enough to sign on the event loop: INLINE_PROBES signatures, each timed. */
  private signsFast(session: Buffer, key: Buffer): boolean {
    if (this.options.inline === false) return false;
    const input = randomBytes(32);
    try {
      return median(Array.from({ length: INLINE_PROBES }, () => this.signTimed(session, key, input).ms)) <= INLINE_SIGN_MS;
    } catch {
      return false; // the test signature says why (check(), or a reconnect's)
    }
  }

  /** Signs a random digest with `key` on `session`: whether it verifies under the signer's public key (the certificate's). */
  private async testSignature(session: Buffer, key: Buffer): Promise<boolean> {
    const probe = randomBytes(32);
    const signature = await this.signOn(session, key, probe);
    return verify(this.digest!, probe, { key: createPublicKey({ key: Buffer.from(this.publicKey), format: 'der', type: 'spki' }), dsaEncoding: 'der' }, signature);
  }

  /** Closes the sessions and finalises the module (the CLI, when it is done with the token). */
  close(): void {
    this.connection = undefined;
    finalize(this.pkcs11, this.activity);
  }

  /**
   * Closes this signer's own sessions, not the module: the signer that replaced it (same module,
   * maybe the same token) goes on signing. Without this every reload would leave a token's sessions
   * open, and an HSM allows only so many.
   */
  release(): void {
    this.released = true;
    if (this.token !== undefined) forgetLogin(this.token, this);
    const connection = this.connection;
    if (!connection) return;
    this.drop(connection);
    this.closeSessions(connection, connection.idle.splice(0));
  }

  /** Closes sessions of `connection`, unless a re-initialisation took them (their handles may be others' by now). */
  private closeSessions(connection: Connection, sessions: readonly Buffer[]): void {
    if (connection.generation !== this.activity.generation) return;
    for (const session of sessions) closeSession(this.pkcs11, session);
  }

  private drop(connection: Connection): void {
    if (this.connection === connection) this.connection = undefined;
    for (const waiter of connection.waiting.splice(0)) waiter(undefined);
  }

  private async connected(): Promise<Connection> {
    if (this.connection) return this.connection;
    if (this.released) throw new SignerUnavailableError('this signer was replaced by a configuration reload; nothing was signed, try again');
    this.connecting ??= this.connect(false).finally(() => (this.connecting = undefined));
    try {
      return await this.connecting;
    } catch (error) {
      this.tokenEvents.errors += 1;
      throw new SignerUnavailableError(`the PKCS#11 token is unavailable (${errorMessage(error)}); nothing was signed, try again`);
    }
  }

  /** Initialises the module, finds the token, opens and logs in the sessions, finds the key. */
  private async connect(startup: boolean): Promise<Connection> {
    const fail = (step: string, message: string): never => {
      throw startup ? new SignerConfigError(`PKCS#11 ${step}: ${message}`) : new Error(message);
    };
    const { pkcs11, options, activity } = this;
    // Sessions opened while a re-initialisation is draining would be finalised under this signer.
    await reinitialised(activity);
    // Re-initialising makes the module scan for tokens again, so a token that came back is seen. When
    // another signer has done it since this one connected, its scan is fresh: doing it again would
    // only take the other signers' new sessions away, and they would do the same in turn.
    if (!startup && (this.generation === activity.generation || !activity.initialised)) await reinitialise(pkcs11, options, activity);
    this.generation = activity.generation;
    const { sessions, token } = openSessions(pkcs11, options, options.sessions ?? DEFAULT_SESSIONS, pkcs11js.CKF_SERIAL_SESSION, fail);
    this.tokenEvents.logins += 1;
    let key: Buffer | undefined;
    let publicKeyHandle: Buffer | undefined;
    try {
      key = this.findObject(sessions[0], pkcs11js.CKO_PRIVATE_KEY);
      if (!key) fail('step 4 (find key)', `no private key ${describeKey(options)} in ${describeToken(options)}; generate one with \`mayfly pkcs11 init-ca\` or fix key_label/key_id`);
      publicKeyHandle = this.findObject(sessions[0], pkcs11js.CKO_PUBLIC_KEY);
      // A token re-created under the same label may hold another key pair under the same key label,
      // whose signatures would not verify under the CA certificate: a reconnect proves the key before
      // it signs anything (at start-up, check() does).
      if (!startup && !(await this.testSignature(sessions[0], key!))) {
        fail('step 6 (match certificate)', `the key ${describeKey(options)} in ${describeToken(options)} is not the CA certificate's key (was the token replaced?)`);
      }
    } catch (error) {
      for (const session of sessions) closeSession(this.pkcs11, session);
      throw error;
    }
    const connection: Connection = { idle: sessions, waiting: [], key: key!, ...(publicKeyHandle ? { publicKeyHandle } : {}), generation: this.generation, inline: !startup && this.signsFast(sessions[0], key!), inlineTimes: [] };
    this.connection = connection;
    this.token = token;
    recordLogin(token, this, options.pin);
    return connection;
  }

  private findObject(session: Buffer, objectClass: number): Buffer | undefined {
    const { pkcs11, options } = this;
    const found = findObjects(pkcs11, session, [{ type: pkcs11js.CKA_CLASS, value: objectClass }, ...keyTemplate(options)]);
    if (found.length > 1) throw new SignerConfigError(`PKCS#11: more than one key ${describeKey(options)} in ${describeToken(options)}; use key_id to pick one`);
    return found[0];
  }

  /** The public key from the token's public key object (EC point or RSA modulus/exponent). */
  private tokenPublicKey(session: Buffer, handle: Buffer): KeyObject {
    const [keyType] = this.pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_KEY_TYPE }]);
    if ((keyType.value as Buffer).readUInt32LE(0) === pkcs11js.CKK_EC) {
      const [params, point] = this.pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_EC_PARAMS }, { type: pkcs11js.CKA_EC_POINT }]);
      const curve = EC_CURVES[(params.value as Buffer).toString('hex')];
      if (!curve) throw new SignerConfigError('PKCS#11: the key is on an unsupported curve; use P-256 or P-384');
      // CKA_EC_POINT is the uncompressed point 04 || x || y, inside a DER OCTET STRING for most modules.
      const encoded = point.value as Buffer;
      const raw = encoded.subarray(encoded.length - curve.pointLength);
      const half = (curve.pointLength - 1) / 2;
      return createPublicKey({ key: { kty: 'EC', crv: curve.name, x: raw.subarray(1, 1 + half).toString('base64url'), y: raw.subarray(1 + half).toString('base64url') }, format: 'jwk' });
    }
    const [modulus, exponent] = this.pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
    return createPublicKey({ key: { kty: 'RSA', n: (modulus.value as Buffer).toString('base64url'), e: (exponent.value as Buffer).toString('base64url') }, format: 'jwk' });
  }
}
