// Builds go_verifier.go with Debian's Go (standard library only, no network) and runs it once for
// a whole batch of chains.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const GO = '/usr/bin/go';

export interface GoVerifyCase {
  readonly id: string;
  readonly root: string;
  readonly intermediates: string;
  readonly leaf: string;
  /** DNS names or IP literals; Go's Verify matches an IP literal against the IP SANs. */
  readonly names: readonly string[];
}

export interface GoVerifyResult {
  readonly id: string;
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

/** Compiles the verifier into `dir` (its Go cache and GOPATH there too); returns the binary's path. */
export function buildGoVerifier(dir: string): string {
  const binary = join(dir, 'go_verifier');
  const { GOTOOLCHAIN: _toolchain, GOFLAGS: _flags, ...environment } = process.env;
  execFileSync(GO, ['build', '-o', binary, join(__dirname, 'go_verifier.go')], {
    cwd: dir,
    env: { ...environment, GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath'), GOPROXY: 'off', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return binary;
}

export function goVerify(binary: string, cases: readonly GoVerifyCase[]): GoVerifyResult[] {
  return JSON.parse(execFileSync(binary, [], { input: JSON.stringify(cases), stdio: ['pipe', 'pipe', 'pipe'] }).toString()) as GoVerifyResult[];
}
