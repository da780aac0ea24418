import * as pkcs11js from 'pkcs11js';
import { errorMessage } from '../../error_message';
import { runningPin } from './module';
import { describeToken, type Pkcs11Options } from './options';

/** A live connection to the token: a logged-in pool of sessions and the key's handle. */
export interface Connection {
  readonly idle: Buffer[];
  /** Requests waiting for a session; given undefined when the connection is dropped. */
  readonly waiting: ((session: Buffer | undefined) => void)[];
  readonly key: Buffer;
  readonly publicKeyHandle?: Buffer;
  /** The module's generation it was opened in: after a re-initialisation its handles are gone, or name others' sessions and keys. */
  readonly generation: number;
  /** The token signs faster than a round trip to libuv's thread pool costs: sign on the event loop (signer.ts). */
  inline: boolean;
  /** How long the inline signatures since the last check took, ms. */
  readonly inlineTimes: number[];
}

const slotId = (slot: Buffer): bigint => slot.readBigUInt64LE(0);

/** The attributes that name the configured key: its label, its id, or both. */
export function keyTemplate(options: Pkcs11Options): pkcs11js.Template {
  return [
    ...(options.keyLabel !== undefined ? [{ type: pkcs11js.CKA_LABEL, value: options.keyLabel }] : []),
    ...(options.keyId !== undefined ? [{ type: pkcs11js.CKA_ID, value: Buffer.from(options.keyId, 'hex') }] : []),
  ];
}

export function findObjects(pkcs11: pkcs11js.PKCS11, session: Buffer, template: pkcs11js.Template): Buffer[] {
  pkcs11.C_FindObjectsInit(session, template);
  try {
    return pkcs11.C_FindObjects(session, 2);
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
}

/** Finds the token, opens `count` sessions and logs in; `fail` reports which step went wrong. */
export function openSessions(pkcs11: pkcs11js.PKCS11, options: Pkcs11Options, count: number, flags: number, fail: (step: string, message: string) => never): { sessions: Buffer[]; token: string } {
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

export function closeSession(pkcs11: pkcs11js.PKCS11, session: Buffer): void {
  try {
    pkcs11.C_CloseSession(session);
  } catch {
    /* gone with its token already */
  }
}

/** A session from the pool, or a wait for one (undefined when the connection is dropped meanwhile). */
export function acquire(connection: Connection): Promise<Buffer | undefined> {
  const session = connection.idle.pop();
  return session ? Promise.resolve(session) : new Promise((resolve) => connection.waiting.push(resolve));
}

/** Gives `session` back: to the longest waiting request, or to the pool. */
export function release(connection: Connection, session: Buffer): void {
  const next = connection.waiting.shift();
  if (next) next(session);
  else connection.idle.push(session);
}
