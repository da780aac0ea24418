// What every ACME state store must do (src/acme/store.ts): SQLite here, PostgreSQL in
// test/integration/acme/postgres_store.test.ts, the same tests.
import { Nonces } from '../../../src/acme/nonces';
import type { AcmeStore, OrderRecord } from '../../../src/acme/store';

/** Registers the contract's tests; `open` gives a fresh, empty store for each, `close` is called after. */
export function acmeStoreContract(open: () => Promise<AcmeStore>): void {
  let store: AcmeStore;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  const order = (id: string, status: OrderRecord['status'], expires: string): OrderRecord => ({ id, ra: 'default', account: 'a1', status, expires, identifiers: [{ type: 'dns', value: 'x.mayfly.test' }], authorizations: [] });

  test('a nonce is accepted once, and never when unknown or expired', async () => {
    const nonces = new Nonces(store);
    const now = new Date('2026-12-06T00:00:00Z');
    const nonce = await nonces.issue(now);
    await expect(nonces.consume(nonce, now)).resolves.toBeUndefined();
    await expect(nonces.consume(nonce, now)).rejects.toMatchObject({ type: 'badNonce' });
    await expect(nonces.consume('never-issued', now)).rejects.toMatchObject({ type: 'badNonce' });
    const old = await nonces.issue(now);
    await expect(nonces.consume(old, new Date(now.getTime() + 2 * 3600_000))).rejects.toMatchObject({ type: 'badNonce' });
  });

  test('cleanup drops expired nonces and orders, and keeps valid orders and fresh ones', async () => {
    const now = new Date('2026-12-06T12:00:00Z');
    await store.addNonce('stale', new Date('2026-12-06T11:00:00Z'));
    await store.addNonce('fresh', new Date('2026-12-06T13:00:00Z'));
    await store.insert('order', order('expired', 'pending', '2026-12-06T11:00:00Z'));
    await store.insert('order', order('current', 'pending', '2026-12-06T13:00:00Z'));
    await store.insert('order', order('issued', 'valid', '2026-12-06T11:00:00Z'));
    expect(await store.cleanup(now)).toBe(2);
    expect(await store.get('order', 'expired')).toBeUndefined();
    expect(await store.get('order', 'current')).toBeDefined();
    expect(await store.get('order', 'issued')).toBeDefined();
    expect(await store.consumeNonce('fresh', now)).toBe(true);
  });

  test('update is a compare-and-set: only the first of two racing transitions wins', async () => {
    await store.insert('order', order('o1', 'ready', '2026-12-06T13:00:00Z'));
    const claim = () => store.update('order', 'o1', (current) => (current.status === 'ready' ? { ...current, status: 'processing' } : undefined));
    const [first, second] = await Promise.all([claim(), claim()]);
    expect([first?.status, second?.status].filter(Boolean)).toEqual(['processing']);
  });

  test('one account per key and RA', async () => {
    const account = { id: 'a1', ra: 'default', thumbprint: 't', jwk: {}, status: 'valid' as const, contact: [], createdAt: '', requester: { user: 'u', groups: [], authentication: 'acme' } };
    expect(await store.insert('account', account)).toBe(true);
    expect(await store.insert('account', { ...account, id: 'a2' })).toBe(false);
    expect(await store.insert('account', { ...account, id: 'a3', ra: 'other' })).toBe(true);
  });
}
