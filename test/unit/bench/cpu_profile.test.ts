import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeProfiles } from '../../../bench/cpu_profile';

describe('a CPU profile of the bundled server', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'mayfly-profile-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('charges each frame to the module it was bundled from: its package or Mayfly module, and Mayfly stages by inclusive time', () => {
    // What scripts/bundle.mjs writes: each module after a comment naming it (line numbers 0-based, as V8's).
    const bundle = [
      '"use strict";', // 0
      'function helper() {}', // 1: esbuild's own, before any module
      '// node_modules/tslib/tslib.es6.mjs', // 2
      'function __awaiter() {}', // 3: a module's first line
      '// node_modules/pino/lib/tools.js', // 4
      'function asJson() {}', // 5
      '// dist/src/csr/parse.js', // 6
      'function parse() {', // 7
      '}', // 8: a module's last line
      '// dist/src/issuance/certificate.js', // 9
      'function issueCertificate() {}', // 10
    ];
    mkdirSync(join(dir, 'dist', 'server'), { recursive: true });
    const file = join(dir, 'dist', 'server', 'mayfly.js');
    writeFileSync(file, bundle.join('\n'));
    const frame = (functionName: string, lineNumber: number) => ({ functionName, url: `file://${file}`, lineNumber, columnNumber: 0, scriptId: '1' });
    const nodes = [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 5, 6, 7] },
      { id: 2, callFrame: frame('parse', 8), children: [3, 4] },
      { id: 3, callFrame: frame('asJson', 5), children: [] },
      { id: 4, callFrame: { functionName: 'verifyOneShot', url: 'node:internal/crypto/sig', lineNumber: 258 }, children: [] },
      { id: 5, callFrame: frame('issueCertificate', 10), children: [] },
      { id: 6, callFrame: frame('__awaiter', 3), children: [] },
      { id: 7, callFrame: frame('helper', 1), children: [] },
    ];
    // Each sample is charged the next time delta: parse 1 ms, asJson 2, verify 3, issueCertificate 4, __awaiter 5, helper 6.
    const profileFile = join(dir, 'CPU.cpuprofile');
    writeFileSync(profileFile, JSON.stringify({ nodes, startTime: 0, endTime: 30_000, samples: [2, 3, 4, 5, 6, 7, 1], timeDeltas: [0, 1000, 2000, 3000, 4000, 5000, 6000] }));

    const summary = summarizeProfiles([profileFile]);
    expect(summary.busyMs).toBe(21);
    expect(Object.fromEntries(summary.byCategory.map((line) => [line.name, line.ms]))).toEqual({ [file]: 6, tslib: 5, 'src/issuance/': 4, 'node:crypto': 3, pino: 2, 'src/csr/': 1 });
    expect(Object.fromEntries(summary.mayflyInclusive.map((line) => [line.name, line.ms]))).toEqual({ 'parse src/csr/parse.js': 6, 'issueCertificate src/issuance/certificate.js': 4 });
    expect(summary.topSelf.map((line) => line.name)).toEqual(expect.arrayContaining(['asJson pino/lib/tools.js', '__awaiter tslib/tslib.es6.mjs', 'helper server/mayfly.js:2']));
  });
});
