import { realpathSync } from 'node:fs';
import * as pkcs11js from 'pkcs11js';
import { errorMessage } from '../../error_message';
import { SignerConfigError } from '../signer';
import type { Pkcs11Options } from './options';

// Process-wide state, kept here and nowhere else: a process loads a PKCS#11 library once, and its
// initialisation, sessions and logins belong to the process, not to any one signer (PKCS#11 2.40
// 5.4, 5.6). Every signer on a module shares its activity; every signer on a token shares its login.

/**
 * Per module: the signatures running on libuv's threads, and a re-initialisation under way. PKCS#11
 * 2.40 5.4 leaves C_Finalize undefined while other calls are in progress, and SoftHSM frees what
 * they use: a reconnect that finalised under them crashed the process (SIGSEGV).
 */
export interface ModuleActivity {
  readonly signing: Set<Promise<Buffer>>;
  reinitialising?: Promise<void>;
  /** How many times it was finalised: sessions opened before the last time are gone. */
  generation: number;
  /** False after a C_Finalize whose C_Initialize failed (a module that finds no tokens may refuse to start). */
  initialised: boolean;
}
const moduleActivity = new Map<string, ModuleActivity>();
/** By the library's real path: two paths to one library load it once, and share its state. */
export const activityOf = (module: string): ModuleActivity => {
  const library = realpathSync(module);
  let activity = moduleActivity.get(library);
  if (!activity) moduleActivity.set(library, (activity = { signing: new Set(), generation: 0, initialised: true }));
  return activity;
};

/**
 * The live signers of each token (module and slot) and their PINs. The login belongs to the process,
 * not to a signer (PKCS#11 2.40 5.6): they all share it, so a new signer must not disturb it lightly.
 */
const tokenLogins = new Map<string, Map<object, string>>();
export const runningPin = (token: string): string | undefined => tokenLogins.get(token)?.values().next().value;

/** `signer` is logged in to `token` with `pin`. */
export function recordLogin(token: string, signer: object, pin: string): void {
  if (!tokenLogins.has(token)) tokenLogins.set(token, new Map());
  tokenLogins.get(token)!.set(signer, pin);
}

/** `signer` no longer uses `token`'s login. */
export function forgetLogin(token: string, signer: object): void {
  const logins = tokenLogins.get(token);
  logins?.delete(signer);
  if (logins?.size === 0) tokenLogins.delete(token);
}

/** Loads and initialises a PKCS#11 module, or says which step failed. */
export function loadModule(options: Pkcs11Options): pkcs11js.PKCS11 {
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

/** C_Finalize: every session and handle of the process on the module is gone from here on. */
export function finalize(pkcs11: pkcs11js.PKCS11, activity: ModuleActivity): void {
  activity.generation += 1;
  activity.initialised = false;
  try {
    pkcs11.C_Finalize();
  } catch {
    /* already finalised */
  }
}

/** Resolves once no re-initialisation of the module is under way (whether it succeeded or not). */
export async function reinitialised(activity: ModuleActivity): Promise<void> {
  while (activity.reinitialising) await activity.reinitialising.catch(() => undefined);
}

/**
 * C_Finalize and C_Initialize once every signature running on the module has ended; signers that
 * reconnect meanwhile share the one re-initialisation rather than finalising under each other.
 */
export function reinitialise(pkcs11: pkcs11js.PKCS11, options: Pkcs11Options, activity: ModuleActivity): Promise<void> {
  activity.reinitialising ??= (async () => {
    // Nothing awaits between the last look and C_Finalize, so no signature can start in between.
    while (activity.signing.size > 0) await Promise.allSettled(activity.signing);
    finalize(pkcs11, activity);
    initialize(pkcs11, options);
    activity.initialised = true;
  })().finally(() => (activity.reinitialising = undefined));
  return activity.reinitialising;
}
