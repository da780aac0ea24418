// The config watch sees the config file and nothing else: the SQLite ledger is written in the same
// folder by default, and a watch on the folder woke every worker's event loop for each ledger write.
import { renameSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { releaseRuntime } from '../../../src/config/assemble';
import { ConfigReloader, type ReloadResult } from '../../../src/config/reloader';
import { watchedInodes } from '../../helpers/inotify';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';

const inode = (path: string): bigint => statSync(path, { bigint: true }).ino;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the config watch', () => {
  let ca: TestCa;
  let reloader: ConfigReloader;
  const reloads: ReloadResult[] = [];
  /** Waits (generously: a loaded machine) until `count` reloads have happened. */
  const reloaded = async (count: number) => {
    for (let waited = 0; reloads.length < count && waited < 20_000; waited += 50) await sleep(50);
    expect(reloads.length).toBe(count);
    expect(reloads.every((result) => result.ok)).toBe(true);
  };

  beforeAll(async () => {
    ca = await startTestCa({ audit: true });
    reloader = new ConfigReloader(ca.runtime, (result) => reloads.push(result));
    reloader.watchFile();
  });
  afterAll(async () => {
    reloader.close();
    if (reloader.current() !== ca.runtime) releaseRuntime(reloader.current());
    await ca.stop();
  });

  it('watches the config file, not the folder where the ledger writes', async () => {
    expect(dirname(ca.auditDatabase)).toBe(dirname(ca.configFile)); // the default layout
    const watched = watchedInodes();
    expect(watched.has(inode(ca.configFile))).toBe(true);
    expect(watched.has(inode(ca.dir))).toBe(false);
    // Records committed beside the config are no change to it.
    for (let i = 0; i < 3; i++) {
      const answer = await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: makeCsr().pem });
      expect(answer.status).toBe(200);
    }
    await sleep(500);
    expect(reloads).toEqual([]);
  });

  it('reloads on an edit in place and on each replacement by rename, as editors save', async () => {
    const text = readFileSync(ca.configFile, 'utf8');
    writeFileSync(ca.configFile, `${text}\n# edited in place\n`);
    await reloaded(1);
    for (let i = 2; i <= 3; i++) {
      writeFileSync(`${ca.configFile}.tmp`, `${text}\n# replaced ${i}\n`, { mode: 0o600 });
      renameSync(`${ca.configFile}.tmp`, ca.configFile);
      await reloaded(i);
    }
    expect(watchedInodes().has(inode(ca.configFile))).toBe(true);
  }, 60_000);

  it('reloads when a deleted config comes back', async () => {
    const text = readFileSync(ca.configFile, 'utf8');
    const before = reloads.length;
    rmSync(ca.configFile);
    // The deletion is a change: wait (generously) for its reload, which must fail, before the file comes back.
    for (const deadline = Date.now() + 20_000; reloads.length === before && Date.now() < deadline; ) await sleep(50);
    const whileGone = reloads.splice(before);
    // Reading a missing file is refused; the running config stays in force.
    expect(whileGone.length).toBeGreaterThan(0);
    expect(whileGone.every((result) => !result.ok)).toBe(true);
    writeFileSync(ca.configFile, `${text}\n# back\n`, { mode: 0o600 });
    await reloaded(before + 1);
  }, 60_000);
});
