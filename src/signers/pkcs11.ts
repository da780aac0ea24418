import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { realpathSync } from 'node:fs';
import * as pkcs11js from 'pkcs11js';
import { encodeUnsignedInteger, sequence } from '../der';
import { errorMessage } from '../error_message';
import { signatureSchemeFor } from './algorithms';
import { SignerConfigError, SignerUnavailableError, type Signer } from './signer';

export interface Pkcs11Options {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so */
  readonly module: string;
  /** Find the token by label (slot ids change when tokens are added), or by slot id. */
  readonly tokenLabel?: string;
  readonly slot?: number;
  /** Find the private key by CKA_LABEL or by CKA_ID (hex). */
  readonly keyLabel?: string;
  readonly keyId?: string;
  readonly pin: string;
  /** Where the PIN came from, for messages ("environment variable X"); never the PIN itself. */
  readonly pinSource: string;
  /** Sessions kept open and reused; signatures run on libuv's threads, so ~its pool size. */
  readonly sessions?: number;
}

const DEFAULT_SESSIONS = 4;
// CKA_EC_PARAMS (the named curve's OID, DER) → curve, and its uncompressed point length.
const EC_CURVES: Readonly<Record<string, { name: string; pointLength: number }>> = {
  '06082a8648ce3d030107': { name: 'P-256', pointLength: 65 },
  '06052b81040022': { name: 'P-384', pointLength: 97 },
};

/** A live connection to the token: a logged-in pool of sessions and the key's handle. */
interface Connection {
  readonly idle: Buffer[];
  /** Requests waiting for a session; given undefined when the connection is dropped. */
  readonly waiting: ((session: Buffer | undefined) => void)[];
  readonly key: Buffer;
  readonly publicKeyHandle?: Buffer;
  /** The module's generation it was opened in: after a re-initialisation its handles are gone, or name others' sessions and keys. */
  readonly generation: number;
}

const describeToken = (options: Pkcs11Options): string => (options.tokenLabel !== undefined ? `token '${options.tokenLabel}'` : `slot ${options.slot}`);
const describeKey = (options: Pkcs11Options): string => (options.keyLabel !== undefined ? `labelled '${options.keyLabel}'` : `with id ${options.keyId}`);
const slotId = (slot: Buffer): bigint => slot.readBigUInt64LE(0);
/**
 * The live signers of each token (module and slot) and their PINs. The login belongs to the process,
 * not to a signer (PKCS#11 2.40 5.6): they all share it, so a new signer must not disturb it lightly.
 */
const tokenLogins = new Map<string, Map<Pkcs11Signer, string>>();
const runningPin = (token: string): string | undefined => tokenLogins.get(token)?.values().next().value;

/**
 * Per module: the signatures running on libuv's threads, and a re-initialisation under way. PKCS#11
 * 2.40 5.4 leaves C_Finalize undefined while other calls are in progress, and SoftHSM frees what
 * they use: a reconnect that finalised under them crashed the process (SIGSEGV).
 */
interface ModuleActivity {
  readonly signing: Set<Promise<Buffer>>;
  reinitialising?: Promise<void>;
  /** How many times it was finalised: sessions opened before the last time are gone. */
  generation: number;
  /** False after a C_Finalize whose C_Initialize failed (a module that finds no tokens may refuse to start). */
  initialised: boolean;
}
const moduleActivity = new Map<string, ModuleActivity>();
/** By the library's real path: two paths to one library load it once, and share its state. */
const activityOf = (module: string): ModuleActivity => {
  const library = realpathSync(module);
  let activity = moduleActivity.get(library);
  if (!activity) moduleActivity.set(library, (activity = { signing: new Set(), generation: 0, initialised: true }));
  return activity;
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
      await signer.check(await signer.connect(true), expected);
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
        const signature = await this.signOn(session, connection.key, tbs);
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

  /** One signature on `session` with `key`, counted as running so no re-initialisation finalises under it. */
  private async signOn(session: Buffer, key: Buffer, tbs: Uint8Array): Promise<Uint8Array> {
    // ECDSA: SoftHSM has no CKM_ECDSA_SHA256, so hash here and sign the digest with CKM_ECDSA.
    const input = this.ecdsa ? createHash(this.digest!).update(tbs).digest() : Buffer.from(tbs.buffer, tbs.byteOffset, tbs.byteLength);
    this.pkcs11.C_SignInit(session, { mechanism: this.ecdsa ? pkcs11js.CKM_ECDSA : pkcs11js.CKM_SHA256_RSA_PKCS }, key);
    const signing = this.pkcs11.C_SignAsync(session, input, Buffer.alloc(1024));
    this.activity.signing.add(signing);
    const signature = await signing.finally(() => this.activity.signing.delete(signing));
    return this.ecdsa ? rawEcdsaToDer(signature) : signature;
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
    const logins = this.token === undefined ? undefined : tokenLogins.get(this.token);
    logins?.delete(this);
    if (logins?.size === 0) tokenLogins.delete(this.token!);
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
    const connection: Connection = { idle: sessions, waiting: [], key: key!, ...(publicKeyHandle ? { publicKeyHandle } : {}), generation: this.generation };
    this.connection = connection;
    this.token = token;
    if (!tokenLogins.has(token)) tokenLogins.set(token, new Map());
    tokenLogins.get(token)!.set(this, options.pin);
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

/** The attributes that name the configured key: its label, its id, or both. */
function keyTemplate(options: Pkcs11Options): pkcs11js.Template {
  return [
    ...(options.keyLabel !== undefined ? [{ type: pkcs11js.CKA_LABEL, value: options.keyLabel }] : []),
    ...(options.keyId !== undefined ? [{ type: pkcs11js.CKA_ID, value: Buffer.from(options.keyId, 'hex') }] : []),
  ];
}

function findObjects(pkcs11: pkcs11js.PKCS11, session: Buffer, template: pkcs11js.Template): Buffer[] {
  pkcs11.C_FindObjectsInit(session, template);
  try {
    return pkcs11.C_FindObjects(session, 2);
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
}

/** Finds the token, opens `count` sessions and logs in; `fail` reports which step went wrong. */
function openSessions(pkcs11: pkcs11js.PKCS11, options: Pkcs11Options, count: number, flags: number, fail: (step: string, message: string) => never): { sessions: Buffer[]; token: string } {
  const slots = pkcs11.C_GetSlotList(true);
  const labels = slots.map((slot) => pkcs11.C_GetTokenInfo(slot).label.trim());
  const index = options.tokenLabel !== undefined ? labels.indexOf(options.tokenLabel) : slots.findIndex((slot) => slotId(slot) === BigInt(options.slot ?? -1));
  if (index < 0) {
    fail('step 2 (find token)', `no ${describeToken(options)} (tokens present: ${labels.map((l) => `'${l}'`).join(', ') || 'none'}); create it (softhsm2-util --init-token) or fix token_label/slot`);
  }
  const sessions: Buffer[] = [];
  for (let i = 0; i < count; i++) sessions.push(pkcs11.C_OpenSession(slots[index], flags));
  const login = (pin: string) => pkcs11.C_Login(sessions[0], pkcs11js.CKU_USER, pin);
  const token = `${options.module}\u0000${slotId(slots[index])}`;
  const running = runningPin(token);
  let loggedOut = false;
  try {
    try {
      login(options.pin);
    } catch (error) {
      if ((error as { code?: number }).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw error;
      // Logged in already, by this process. The running signers' PIN was checked then; another PIN
      // is checked by logging out and in, which costs them their key handles (they reconnect).
      if (running !== options.pin) {
        pkcs11.C_Logout(sessions[0]);
        loggedOut = true;
        login(options.pin);
      }
    }
  } catch (error) {
    const code = (error as { code?: number }).code;
    // A wrong PIN (a bad reload) must not leave the running signers logged out; a locked one takes no more tries.
    if (loggedOut && running !== undefined && code !== pkcs11js.CKR_PIN_LOCKED) {
      try {
        login(running);
      } catch {
        /* they log in again when they reconnect */
      }
    }
    for (const session of sessions) closeSession(pkcs11, session);
    const why = code === pkcs11js.CKR_PIN_INCORRECT ? 'the PIN is wrong' : code === pkcs11js.CKR_PIN_LOCKED ? 'the PIN is locked' : errorMessage(error);
    fail('step 3 (log in)', `login to ${describeToken(options)} failed: ${why} (PIN from ${options.pinSource})`);
  }
  return { sessions, token };
}

function closeSession(pkcs11: pkcs11js.PKCS11, session: Buffer): void {
  try {
    pkcs11.C_CloseSession(session);
  } catch {
    /* gone with its token already */
  }
}

/** Resolves once no re-initialisation of the module is under way (whether it succeeded or not). */
async function reinitialised(activity: ModuleActivity): Promise<void> {
  while (activity.reinitialising) await activity.reinitialising.catch(() => undefined);
}

/**
 * C_Finalize and C_Initialize once every signature running on the module has ended; signers that
 * reconnect meanwhile share the one re-initialisation rather than finalising under each other.
 */
function reinitialise(pkcs11: pkcs11js.PKCS11, options: Pkcs11Options, activity: ModuleActivity): Promise<void> {
  activity.reinitialising ??= (async () => {
    // Nothing awaits between the last look and C_Finalize, so no signature can start in between.
    while (activity.signing.size > 0) await Promise.allSettled(activity.signing);
    finalize(pkcs11, activity);
    initialize(pkcs11, options);
    activity.initialised = true;
  })().finally(() => (activity.reinitialising = undefined));
  return activity.reinitialising;
}

/** C_Finalize: every session and handle of the process on the module is gone from here on. */
function finalize(pkcs11: pkcs11js.PKCS11, activity: ModuleActivity): void {
  activity.generation += 1;
  activity.initialised = false;
  try {
    pkcs11.C_Finalize();
  } catch {
    /* already finalised */
  }
}

/** Loads and initialises a PKCS#11 module, or says which step failed. */
function loadModule(options: Pkcs11Options): pkcs11js.PKCS11 {
  const pkcs11 = new pkcs11js.PKCS11();
  try {
    pkcs11.load(options.module);
  } catch (error) {
    throw new SignerConfigError(`PKCS#11 step 1 (load module): ${options.module} cannot be loaded (${errorMessage(error)}); install the module (e.g. apt-get install softhsm2) or fix \`module\``);
  }
  initialize(pkcs11, options);
  return pkcs11;
}

function initialize(pkcs11: pkcs11js.PKCS11, options: Pkcs11Options): void {
  try {
    // OS locking: signatures run on several libuv threads at once, so the module must lock itself.
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if ((error as { code?: number }).code !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      throw new SignerConfigError(`PKCS#11 step 1 (initialise module): ${options.module}: ${errorMessage(error)}`);
    }
  }
}

export const TOKEN_KEY_TYPES = ['p256', 'p384', 'rsa2048', 'rsa3072'] as const;
export type TokenKeyType = (typeof TOKEN_KEY_TYPES)[number];

const EC_PARAMS: Readonly<Record<string, string>> = { p256: '06082a8648ce3d030107', p384: '06052b81040022' };

/**
 * Generates a CA key pair inside the token: the private key sensitive and never extractable, so it
 * cannot leave the token. Refuses to add a second key under a label or id already in use.
 */
export async function generateTokenKey(options: Pkcs11Options, keyType: TokenKeyType): Promise<void> {
  const pkcs11 = loadModule(options);
  const fail = (step: string, message: string): never => {
    throw new SignerConfigError(`PKCS#11 ${step}: ${message}`);
  };
  const { sessions: [session] } = openSessions(pkcs11, options, 1, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION, fail);
  try {
    if (findObjects(pkcs11, session, keyTemplate(options)).length > 0) {
      fail('generate key', `${describeToken(options)} already holds a key ${describeKey(options)}; pick another label`);
    }
    // Both halves share CKA_ID (and the label), so the signer finds the public key beside the private one.
    const identity = options.keyId !== undefined ? keyTemplate(options) : [...keyTemplate(options), { type: pkcs11js.CKA_ID, value: randomBytes(8) }];
    const ec = keyType.startsWith('p');
    const publicTemplate: pkcs11js.Template = [
      ...identity,
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_VERIFY, value: true },
      ...(ec
        ? [{ type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(EC_PARAMS[keyType], 'hex') }]
        : [
            { type: pkcs11js.CKA_MODULUS_BITS, value: Number(keyType.slice(3)) },
            { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
          ]),
    ];
    const privateTemplate: pkcs11js.Template = [
      ...identity,
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    ];
    const mechanism = { mechanism: ec ? pkcs11js.CKM_EC_KEY_PAIR_GEN : pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN };
    await pkcs11.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate);
  } finally {
    pkcs11.C_CloseSession(session);
  }
}

function acquire(connection: Connection): Promise<Buffer | undefined> {
  const session = connection.idle.pop();
  return session ? Promise.resolve(session) : new Promise((resolve) => connection.waiting.push(resolve));
}

function release(connection: Connection, session: Buffer): void {
  const next = connection.waiting.shift();
  if (next) next(session);
  else connection.idle.push(session);
}

/** PKCS#11 ECDSA returns r || s; X.509 wants ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 2.2.3). */
function rawEcdsaToDer(signature: Buffer): Uint8Array {
  const half = signature.length / 2;
  return sequence(encodeUnsignedInteger(signature.subarray(0, half)), encodeUnsignedInteger(signature.subarray(half)));
}
