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
  /** `false`: every signature in libuv's pool, however fast the token (signer.ts decides otherwise). */
  readonly inline?: false;
}

export const describeToken = (options: Pkcs11Options): string => (options.tokenLabel !== undefined ? `token '${options.tokenLabel}'` : `slot ${options.slot}`);
export const describeKey = (options: Pkcs11Options): string => (options.keyLabel !== undefined ? `labelled '${options.keyLabel}'` : `with id ${options.keyId}`);
