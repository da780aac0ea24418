// The outside implementations the interop tests run. A developer without one gets a skipped test
// and a message saying what to install; CI (CI set) gets a failure, so a matrix never passes unrun.
import { existsSync } from 'node:fs';

export interface InteropTool {
  readonly executable: string;
  readonly debianPackage: string;
}

/** `it`, unless a tool is missing: then a skip with a warning, or under CI a test that fails saying why. */
export function itWithTools(tools: readonly InteropTool[], name: string, test: jest.ProvidesCallback, timeout: number): void {
  const missing = tools.filter((tool) => !existsSync(tool.executable)).map((tool) => `${tool.executable} (Debian package ${tool.debianPackage})`);
  if (missing.length === 0) return it(name, test, timeout);
  if (process.env.CI) {
    return it(name, () => {
      throw new Error(`missing ${missing.join(', ')}: CI runs every interop check (.ci/run installs them)`);
    });
  }
  console.warn(`interop: skipping "${name}": missing ${missing.join(', ')}; install it to run this check (under CI this is a failure)`);
  it.skip(name, test);
}
