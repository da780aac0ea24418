import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { signatureSchemeFor } from './algorithms';
import { SignerConfigError, type Signer } from './signer';

export interface LocalSignerOptions {
  /** Path of a PEM private key (PKCS#8, optionally encrypted, or a traditional format). */
  readonly keyFile: string;
  /** The passphrase of an encrypted key. */
  readonly passphrase?: string;
}

/** How many processes of `mayfly serve --workers N` share the port: set in each worker's environment by its primary. */
export const WORKERS_ENV = 'MAYFLY_WORKERS';

/**
 * Whether this process is one of `serve --workers N` with a worker for every core. Then every core
 * runs an event loop already: libuv's pool adds no core to sign on, and the hand-off to a pool
 * thread and back (a wake-up each way, more threads than cores) costs more than it frees
 * (RSA-2048, two workers on two cores: 0.97–1.03 ms CPU a certificate inline against 1.13–1.22
 * through the pool, and ~12 % more certificates a second; 2026-12-06).
 */
const workersCoverCores = (): boolean => Number(process.env[WORKERS_ENV] ?? 1) >= availableParallelism();

/**
 * A CA key held in a file, loaded once. P-256 and Ed25519 (~40 µs) sign inline, where the hand-off to
 * a thread and back would cost more than the signature. Slower keys (RSA, P-384, P-521: 0.3–3 ms) sign
 * on libuv's thread pool, off the event loop, so that a single process signs on every core; inline
 * too in a worker of a fleet that has one on every core (workersCoverCores).
 */
export class LocalSigner implements Signer {
  readonly signatureAlgorithm: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly description: string;
  private readonly digest: string | null;
  private readonly inline: boolean;

  private constructor(private readonly key: KeyObject) {
    const scheme = signatureSchemeFor(key);
    this.digest = scheme.digest;
    this.signatureAlgorithm = scheme.algorithmIdentifier;
    this.description = `local ${scheme.keyDescription}`;
    this.publicKey = createPublicKey(key).export({ format: 'der', type: 'spki' });
    this.inline = key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyDetails?.namedCurve === 'prime256v1' || workersCoverCores();
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
      return new LocalSigner(createPrivateKey({ key: pem, format: 'pem', ...(options.passphrase ? { passphrase: options.passphrase } : {}) }));
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
