// A refused reload leaves nothing open: a deny list prepared for a config that is then refused (at
// parse time, or when its signers or authenticators are assembled) must close its file watch.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { releaseRuntime } from '../../../src/config/assemble';
import { ConfigReloader } from '../../../src/config/reloader';
import { watchedInodes } from '../../helpers/inotify';
import { startTestCa, type TestCa } from '../../helpers/mayfly';

describe('a refused reload', () => {
  let ca: TestCa;
  beforeAll(async () => (ca = await startTestCa()));
  afterAll(() => ca.stop());

  it('closes the deny-list watches its config opened, however it was refused', async () => {
    const reloader = new ConfigReloader(ca.runtime);
    const good = readFileSync(ca.configFile, 'utf8');
    const listFolders: string[] = [];
    for (let i = 0; i < 20; i++) {
      // Each config watches a deny list in a folder of its own, so each watch left open shows.
      const folder = join(ca.dir, 'lists', String(i));
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'deny.txt'), 'blocked.mayfly.test\n');
      listFolders.push(folder);
      const withDenyList = good.replace('    validators:\n', `    validators:\n      - deny_list:\n          file: lists/${i}/deny.txt\n`);
      // Odd: refused while assembling (a signing CA certificate that is missing); even: at parse time (an unknown validator after it).
      const refused = i % 2 === 1 ? withDenyList.replace('cert: ca/intermediate.pem', 'cert: ca/missing.pem') : withDenyList.replace('      - public_key:\n', '      - no_such_validator: {}\n      - public_key:\n');
      writeFileSync(ca.configFile, refused);
      const result = await reloader.reload();
      expect(result.ok).toBe(false);
    }
    reloader.close();
    const watched = watchedInodes();
    expect(listFolders.filter((folder) => watched.has(statSync(join(folder, 'deny.txt'), { bigint: true }).ino))).toEqual([]);
    // The check can see a watch: the running config's own deny list, once a reload applies it.
    writeFileSync(ca.configFile, good.replace('    validators:\n', '    validators:\n      - deny_list:\n          file: lists/0/deny.txt\n'));
    const applied = new ConfigReloader(ca.runtime);
    expect(await applied.reload()).toEqual({ ok: true, restartRequired: [] });
    expect(watchedInodes().has(statSync(join(listFolders[0], 'deny.txt'), { bigint: true }).ino)).toBe(true);
    releaseRuntime(applied.current());
  });
});
