import { SessionStore, sessionIdFrom } from '../../../../src/http/console/session';

const requester = { user: 'auditor', groups: ['auditors'], authentication: 'people' };

describe('console sessions', () => {
  it('end after the idle time, and after the absolute time however busy', () => {
    let now = 0;
    const sessions = new SessionStore({ idleMs: 1000, absoluteMs: 5000 }, () => now);
    const idle = sessions.create(requester);
    now = 999;
    expect(sessions.find(idle.id)).toBe(idle);
    now = 1998;
    expect(sessions.find(idle.id)).toBe(idle); // touched at 999
    now = 2998;
    expect(sessions.find(idle.id)).toBeUndefined();

    now = 10_000;
    const busy = sessions.create(requester);
    for (now = 10_500; now < 15_000; now += 500) expect(sessions.find(busy.id)).toBe(busy);
    now = 15_000;
    expect(sessions.find(busy.id)).toBeUndefined();
  });

  it('make unguessable ids, and forget an ended one', () => {
    const sessions = new SessionStore();
    const a = sessions.create(requester);
    const b = sessions.create(requester);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.toBe(b.id);
    sessions.end(a.id);
    expect(sessions.find(a.id)).toBeUndefined();
    expect(sessions.find(b.id)).toBe(b);
    expect(sessions.find(undefined)).toBeUndefined();
  });

  it('read the id from a Cookie header among others', () => {
    expect(sessionIdFrom('a=1; mayfly_console=abc_-; b=2')).toBe('abc_-');
    expect(sessionIdFrom('mayfly_consoleX=1')).toBeUndefined();
    expect(sessionIdFrom(undefined)).toBeUndefined();
  });
});
