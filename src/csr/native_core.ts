import type * as NativeCore from 'mayfly-native';
import { getFips } from 'node:crypto';

/**
 * Mayfly's native core (native/, built from source by `npm ci`): a CSR's ECDSA signature verified
 * from its point, without node:crypto's import of the key through OpenSSL 3's decoders. Undefined
 * where it was not built (an install with --ignore-scripts): node:crypto then verifies, as it does
 * for every other key type, and is the reference the native core is tested against. Unused when
 * Node runs in FIPS mode: the core calls OpenSSL's EC functions directly, outside the FIPS provider.
 */
export const nativeCore: typeof NativeCore | undefined = loadNativeCore();

const nativeCurves = new Set(nativeCore?.curves);
const nativeDigests = new Set(nativeCore?.digests);

/** Whether the native core verifies ECDSA signatures on `curve` with `digest` (node:crypto does the rest). */
export const nativeVerifies = (curve: string, digest: string): boolean => nativeCurves.has(curve) && nativeDigests.has(digest);

function loadNativeCore(): typeof NativeCore | undefined {
  if (getFips() === 1) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: absent when not built
    return require('mayfly-native') as typeof NativeCore;
  } catch (error) {
    // Only an absent build falls back; a module that is there and fails to load is a broken install.
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}
