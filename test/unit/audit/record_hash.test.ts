import { recordHash, sha256Hex } from '../../../src/audit/record';

// Every ledger already written is verified against these hashes: a change to how they are computed
// (one-shot hashing instead of a Hash object, 2026-12-06) must not change a single one.
describe('the hashes a ledger is chained and verified with', () => {
  it('hashes the chain id, the sequence, the previous hash and the UTF-8 event text, newline-separated', () => {
    expect(recordHash('host-1-abc', 7, '0'.repeat(64), '{"event":"sign","subject":"CN=é.example"}')).toBe('1d6b183543f790db49866bfc95fbcc2649dcd04cf7ff38bd62b3fc7fe2ff4bca');
    expect(recordHash('host-1-abc', 8, '0'.repeat(64), '{"event":"sign","subject":"CN=é.example"}')).not.toBe('1d6b183543f790db49866bfc95fbcc2649dcd04cf7ff38bd62b3fc7fe2ff4bca');
  });

  it('hashes bytes as they are', () => {
    expect(sha256Hex(Uint8Array.of(1, 2, 3))).toBe('039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81');
    expect(sha256Hex(new Uint8Array(Buffer.from('xx\u0001\u0002\u0003yy', 'latin1')).subarray(2, 5))).toBe('039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81');
  });
});
