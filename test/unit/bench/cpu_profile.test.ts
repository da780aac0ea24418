import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeProfiles } from '../../../bench/cpu_profile';

describe('a CPU profile of the bundled server', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'mayfly-profile-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('charges each frame to the module it was bundled from: its package or Mayfly module, and Mayfly stages by inclusive time', () => {
    // What scripts/bundle.mjs writes: each module after a comment naming it.
    const bundle = ['"use strict";', '// node_modules/pino/lib/tools.js', 'function asJson() {}', '', '// dist/src/csr/parse.js', 'function parse() {', '}', '// dist/src/issuance/certificate.js', 'function issueCertificate() {}'];
    mkdirSync(join(dir, 'dist', 'server'), { recursive: true });
    const file = join(dir, 'dist', 'server', 'mayfly.js');
    writeFileSync(file, bundle.join('\n'));
    const frame = (functionName: string, lineNumber: number) => ({ functionName, url: `file://${file}`, lineNumber, columnNumber: 0, scriptId: '1' });
    const nodes = [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 5] },
      { id: 2, callFrame: frame('parse', 5), children: [3, 4] },
      { id: 3, callFrame: frame('asJson', 2), children: [] },
      { id: 4, callFrame: { functionName: 'verifyOneShot', url: 'node:internal/crypto/sig', lineNumber: 258 }, children: [] },
      { id: 5, callFrame: frame('issueCertificate', 8), children: [] },
    ];
    // Each sample is charged the next time delta: parse 1 ms, asJson 2 ms, verify 3 ms, issueCertificate 4 ms.
    const profileFile = join(dir, 'CPU.cpuprofile');
    writeFileSync(profileFile, JSON.stringify({ nodes, startTime: 0, endTime: 10_000, samples: [2, 3, 4, 5, 1], timeDeltas: [0, 1000, 2000, 3000, 4000] }));

    const summary = summarizeProfiles([profileFile]);
    expect(summary.busyMs).toBe(10);
    expect(Object.fromEntries(summary.byCategory.map((line) => [line.name, line.ms]))).toEqual({ 'src/issuance/': 4, 'node:crypto': 3, pino: 2, 'src/csr/': 1 });
    expect(Object.fromEntries(summary.mayflyInclusive.map((line) => [line.name, line.ms]))).toEqual({ 'parse src/csr/parse.js': 6, 'issueCertificate src/issuance/certificate.js': 4 });
    expect(summary.topSelf.map((line) => line.name)).toContain('asJson pino/lib/tools.js');
  });
});
