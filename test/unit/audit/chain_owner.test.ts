import { hostname } from 'node:os';
import { chainOwnerGone, isChainId, newChainId } from '../../../src/audit/chain_owner';

describe('chain ids', () => {
  it('names this process on this host, and is a journal file name whatever the host name holds', () => {
    expect(newChainId()).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{8}$`));
    for (const host of ['ca-1.example', 'bad host', 'a/../../b', 'häst:1', '']) {
      const id = newChainId(host);
      expect(isChainId(id)).toBe(true);
      expect(id).toMatch(/^[A-Za-z0-9._-]+$/);
    }
    expect(newChainId('a/../../b')).toMatch(/^a_\.\._\.\._b-/);
  });

  it('refuses names that are not chain ids', () => {
    for (const name of ['', 'x', 'host-1-0000aaa', 'host-1-0000aaaa.next', 'a/b-1-0000aaaa', 'my host-1-0000aaaa', '-1-0000aaaa']) expect(isChainId(name)).toBe(false);
  });

  it('knows a chain of this host whose process ended, and only that', () => {
    expect(chainOwnerGone(newChainId())).toBe(false); // this process runs
    expect(chainOwnerGone('elsewhere.example-1-0000aaaa')).toBe(false); // another host's
    expect(chainOwnerGone(`${newChainId(hostname()).split('-').slice(0, -2).join('-')}-999999999-0000aaaa`)).toBe(true);
  });
});
