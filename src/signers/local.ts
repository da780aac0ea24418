import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { signatureSchemeFor } from './algorithms';
import { SignerConfigError, type Signer } from './signer';

export interface LocalSignerOptions {
  /** Path of a PEM private key (PKCS#8, optionally encrypted, or a traditional format). */
  readonly keyFile: string;
  /** The passphrase of an encrypted key. */
  readonly passphrase?: string;
  /**
   * Sign with a slow key (RSA, P-384, P-521) on the event loop too, not in libuv's pool: for a process
   * whose cores all run event loops already (config/signing_ca/local.ts decides).
   */
  readonly onEventLoop?: boolean;
}

/**
 * A CA key held in a file, loaded once. P-256 and Ed25519 (~40 µs) sign inline, where the hand-off to
 * a thread and back would cost more than the signature. Slower keys (RSA, P-384, P-521: 0.3–3 ms) sign
 * on libuv's thread pool, off the event loop, so that a single process signs on every core; inline
 * too when `onEventLoop` says the cores have no room for the pool.
 */
export class LocalSigner implements Signer {
  readonly signatureAlgorithm: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly description: string;
  private readonly digest: string | null;
  private readonly inline: boolean;

  private constructor(
    private readonly key: KeyObject,
    onEventLoop = false,
  ) {
    const scheme = signatureSchemeFor(key);
    this.digest = scheme.digest;
    this.signatureAlgorithm = scheme.algorithmIdentifier;
    this.description = `local ${scheme.keyDescription}`;
    this.publicKey = createPublicKey(key).export({ format: 'der', type: 'spki' });
    this.inline = key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyDetails?.namedCurve === 'prime256v1' || onEventLoop;
  }

  /** A signer for a key already in memory (a CA key `mayfly init` has just made). */
  static fromKey(key: KeyObject): LocalSigner {
    return new LocalSigner(key);
  }

  static async load(options: LocalSignerOptions): Promise<LocalSigner> {
    const info = await stat(options.keyFile).catch(() => {
      throw new SignerConfigError(`the CA key file ${options.keyFile} cannot be read`);
    });
    // A CA key others can read is a compromised CA: refuse rather than warn.
    if ((info.mode & 0o077) !== 0) {
      throw new SignerConfigError(`the CA key file ${options.keyFile} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`);
    }
    const pem = await readFile(options.keyFile);
    try {
      return new LocalSigner(createPrivateKey({ key: pem, format: 'pem', ...(options.passphrase ? { passphrase: options.passphrase } : {}) }), options.onEventLoop);
    } catch (error) {
      if (error instanceof SignerConfigError) throw error;
      throw new SignerConfigError(`the CA key file ${options.keyFile} is not a readable private key${options.passphrase ? ' (or the passphrase is wrong)' : ''}`);
    }
  }

  sign(tbs: Uint8Array): Promise<Uint8Array> {
    if (this.inline) {
      try {
        return Promise.resolve(sign(this.digest, tbs, { key: this.key, dsaEncoding: 'der' }));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      sign(this.digest, tbs, { key: this.key, dsaEncoding: 'der' }, (error, signature) => (error ? reject(error) : resolve(signature)));
    });
  }
}
