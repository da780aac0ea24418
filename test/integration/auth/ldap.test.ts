// LdapAuthenticator against a real OpenLDAP slapd (test/helpers/slapd.ts). Where a refusal could
// pass for the wrong reason, a "the server would" check first shows that the attack or the hole
// is real on this server, so the refusal is the authenticator's doing.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Client } from 'ldapts';
import { escapeDnValue, escapeFilterValue, LdapAuthenticator, LdapConfigError, type LdapAuthenticatorOptions } from '../../../src/auth/ldap';
import { startSlapd, sshaPassword, SUFFIX, type Slapd } from '../../helpers/slapd';

const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const TEMPLATE = `uid={user},${PEOPLE}`;

const person = (uidValue: string, password: string, parent = PEOPLE): string =>
  `dn: uid=${escapeDnValue(uidValue)},${parent}\nobjectClass: inetOrgPerson\nuid: ${uidValue}\ncn: ${uidValue}\nsn: test\nuserPassword: ${sshaPassword(password)}\n`;
const groupOfNames = (cn: string, members: readonly string[]): string =>
  `dn: cn=${cn},${GROUPS}\nobjectClass: groupOfNames\ncn: ${cn}\n${members.map((dn) => `member: ${dn}\n`).join('')}`;
const posixGroup = (cn: string, gid: number, memberUids: readonly string[]): string =>
  `dn: cn=${cn},${GROUPS}\nobjectClass: posixGroup\ncn: ${cn}\ngidNumber: ${gid}\n${memberUids.map((uid) => `memberUid: ${uid}\n`).join('')}`;
const dnOf = (uidValue: string, parent = PEOPLE): string => `uid=${escapeDnValue(uidValue)},${parent}`;

// Names with DN and filter metacharacters that are nonetheless real users.
const CAROL = 'carol (ops), jr';
const ZOE = 'zoë';
const AD_STAR = 'ad*';

const DIRECTORY = [
  `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n`,
  `dn: ou=robots,${PEOPLE}\nobjectClass: organizationalUnit\nou: robots\n`,
  `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups\n`,
  person('alice', 'alice-pw'),
  person('bob', 'bob-pw'),
  person('admin', 'admin-pw'),
  person(CAROL, 'carol-pw'),
  person(ZOE, 'zoe-pw'),
  person(AD_STAR, 'adstar-pw'),
  // Below ou=people but not a person the template means: reachable only by injecting ",ou=robots".
  person('robot', 'robot-pw', `ou=robots,${PEOPLE}`),
  groupOfNames('deployers', [dnOf('alice'), dnOf(CAROL)]),
  groupOfNames('ops', [dnOf('alice'), dnOf(ZOE)]),
  groupOfNames('admins', [dnOf('admin')]),
  groupOfNames('robots', [dnOf('robot', `ou=robots,${PEOPLE}`)]),
  posixGroup('wheel', 10, ['admin']),
  posixGroup('starry', 11, [AD_STAR]),
].join('\n');

/** Binds with a plain ldapts client, as a careless authenticator would: true when the server accepts. */
async function serverAcceptsBind(url: string, dn: string, password: string): Promise<boolean> {
  const client = new Client({ url, timeout: 2000, connectTimeout: 2000 });
  try {
    await client.bind(dn, password);
    return true;
  } catch {
    return false;
  } finally {
    await client.unbind().catch(() => {});
  }
}

async function rawGroupSearch(url: string, filter: string): Promise<string[]> {
  const client = new Client({ url, timeout: 2000, connectTimeout: 2000 });
  try {
    const { searchEntries } = await client.search(GROUPS, { scope: 'sub', filter, attributes: ['cn'] });
    return searchEntries.map((entry) => String(entry.cn)).sort();
  } finally {
    await client.unbind().catch(() => {});
  }
}

/** A TCP listener that counts connections and never answers: proves a request never left. */
async function silentServer(): Promise<{ url: string; connections: () => number; open: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    count += 1;
    sockets.add(socket);
    // Read and drop what arrives, so the client's FIN is seen and the socket closes.
    socket.resume();
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    url: `ldap://127.0.0.1:${address.port}`,
    connections: () => count,
    open: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP relay in front of slapd that counts the connections still open through it. */
async function countingRelay(targetUrl: string): Promise<{ url: string; open: () => number; close: () => Promise<void> }> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const upstream = connect(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      upstream.destroy();
    });
    upstream.on('close', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    url: `ldap://127.0.0.1:${address.port}`,
    open: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits up to 15 s (a loaded machine stalls) for the count to reach zero; returns the last count. */
async function settlesToZero(count: () => number): Promise<number> {
  for (const deadline = Date.now() + 15_000; count() > 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
  return count();
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work;
  return { value, ms: performance.now() - start };
}

describe('escaping', () => {
  it.each([
    ['a,b', 'a\\,b'],
    ['a=b+c', 'a\\=b\\+c'],
    ['a\\b', 'a\\\\b'],
    ['"<>;', '\\"\\<\\>\\;'],
    ['#a#', '\\#a#'],
    [' a b ', '\\ a b\\ '],
    [' ', '\\ '],
    ['a\0b', 'a\\00b'],
    ['a\nb', 'a\\0ab'],
    ['*', '*'],
    ['zoë', 'zoë'],
  ])('RFC 4514: the DN value %j is written %j', (value, escaped) => {
    expect(escapeDnValue(value)).toBe(escaped);
  });

  it.each([
    ['*', '\\2a'],
    ['admin)(uid=*', 'admin\\29\\28uid=\\2a'],
    ['a\\b', 'a\\5cb'],
    ['a\0b', 'a\\00b'],
    ['zoë', 'zoë'],
  ])('RFC 4515: the filter value %j is written %j', (value, escaped) => {
    expect(escapeFilterValue(value)).toBe(escaped);
  });
});

describe('LdapAuthenticator configuration', () => {
  const good: LdapAuthenticatorOptions = { url: 'ldap://127.0.0.1:389', bindDnTemplate: TEMPLATE, groupSearchBase: GROUPS };

  it('accepts a complete entry', () => {
    expect(new LdapAuthenticator('corp', good).name).toBe('corp');
  });

  it('names the YAML option at fault apart from the reason, for the config error', () => {
    let caught: unknown;
    try {
      new LdapAuthenticator('corp', { ...good, groupFilter: '(cn=all)' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LdapConfigError);
    expect(caught).toMatchObject({ option: 'group_filter', reason: expect.stringMatching(/^expected \{dn\} or \{user\}/) });
  });

  it.each<[string, Partial<LdapAuthenticatorOptions>, RegExp]>([
    ['an http url', { url: 'http://127.0.0.1' }, /^url: expected ldap/],
    ['a url that is no URL', { url: 'not a url' }, /^url: /],
    ['a url with a base DN', { url: `ldap://127.0.0.1/${SUFFIX}` }, /^url: give only/],
    ['StartTLS over ldaps', { url: 'ldaps://127.0.0.1', startTls: true }, /^start_tls: /],
    ['a CA file without TLS', { tlsCaFile: '/dev/null' }, /^tls_ca_file: only/],
    ['a CA file that is missing', { url: 'ldaps://127.0.0.1', tlsCaFile: '/nonexistent/ca.pem' }, /^tls_ca_file: cannot read/],
    ['a bind DN template without {user}', { bindDnTemplate: PEOPLE }, /^bind_dn_template: expected \{user\}/],
    ['a bind DN template with {dn}', { bindDnTemplate: `uid={user},{dn}` }, /^bind_dn_template: unknown placeholder \{dn\}/],
    ['a group filter naming nobody', { groupFilter: '(objectClass=groupOfNames)' }, /^group_filter: expected \{dn\} or \{user\}/],
    ['a group filter with an unknown placeholder', { groupFilter: '(member={uid})' }, /^group_filter: unknown placeholder \{uid\}/],
    ['a group filter that does not parse', { groupFilter: '(&(member={dn})' }, /^group_filter: not an LDAP filter/],
    ['a group attribute that is no attribute', { groupAttribute: 'cn)(x' }, /^group_attribute: /],
    ['an empty group search base', { groupSearchBase: '' }, /^group_search_base: /],
    ['a zero timeout', { timeoutMs: 0 }, /^timeout: /],
  ])('refuses %s', (_, change, message) => {
    expect(() => new LdapAuthenticator('corp', { ...good, ...change })).toThrow(LdapConfigError);
    expect(() => new LdapAuthenticator('corp', { ...good, ...change })).toThrow(message);
  });
});

describe('LdapAuthenticator against slapd', () => {
  let slapd: Slapd;
  let directory: LdapAuthenticator;
  let posix: LdapAuthenticator;
  const errors: unknown[] = [];

  beforeAll(async () => {
    slapd = await startSlapd({ ldif: DIRECTORY });
    directory = new LdapAuthenticator('corp-ldap', { url: slapd.url, bindDnTemplate: TEMPLATE, groupSearchBase: GROUPS, timeoutMs: 3000, logError: (error) => errors.push(error) });
    posix = new LdapAuthenticator('corp-posix', { url: slapd.url, bindDnTemplate: TEMPLATE, groupSearchBase: GROUPS, groupFilter: '(&(objectClass=posixGroup)(memberUid={user}))', timeoutMs: 3000 });
  });
  afterAll(async () => {
    await slapd?.cleanup();
  });
  beforeEach(() => {
    errors.length = 0;
  });

  describe('accepts', () => {
    it('a user with its password, with exactly its groups and the entry name', async () => {
      await expect(directory.authenticate({ user: 'alice', secret: 'alice-pw' })).resolves.toEqual({ user: 'alice', groups: ['deployers', 'ops'], authentication: 'corp-ldap' });
    });

    it('a user in no group, with no groups', async () => {
      await expect(directory.authenticate({ user: 'bob', secret: 'bob-pw' })).resolves.toEqual({ user: 'bob', groups: [], authentication: 'corp-ldap' });
    });

    it('a user whose name holds DN and filter metacharacters, escaped for the bind and for the search', async () => {
      await expect(directory.authenticate({ user: CAROL, secret: 'carol-pw' })).resolves.toEqual({ user: CAROL, groups: ['deployers'], authentication: 'corp-ldap' });
    });

    it('a user whose name is not ASCII', async () => {
      await expect(directory.authenticate({ user: ZOE, secret: 'zoe-pw' })).resolves.toEqual({ user: ZOE, groups: ['ops'], authentication: 'corp-ldap' });
    });

    it('with a group filter on the user name (posixGroup memberUid)', async () => {
      await expect(posix.authenticate({ user: 'admin', secret: 'admin-pw' })).resolves.toEqual({ user: 'admin', groups: ['wheel'], authentication: 'corp-posix' });
    });

    it('a user name in another case, as the directory spells it: one user is one identity, whatever the case typed', async () => {
      await expect(directory.authenticate({ user: 'ALICE', secret: 'alice-pw' })).resolves.toEqual({ user: 'alice', groups: ['deployers', 'ops'], authentication: 'corp-ldap' });
      await expect(directory.authenticate({ user: ZOE.toUpperCase(), secret: 'zoe-pw' })).resolves.toEqual({ user: ZOE, groups: ['ops'], authentication: 'corp-ldap' });
      // The same name decomposed (o + combining diaeresis): the directory matches it, and so does Mayfly.
      await expect(directory.authenticate({ user: 'ZOE\u0308', secret: 'zoe-pw' })).resolves.toEqual({ user: ZOE, groups: ['ops'], authentication: 'corp-ldap' });
      // memberUid matches exactly: the group is found only under the directory's spelling.
      await expect(posix.authenticate({ user: 'Admin', secret: 'admin-pw' })).resolves.toEqual({ user: 'admin', groups: ['wheel'], authentication: 'corp-posix' });
    });

    it('the same user many times at once, each on its own connection', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, index) => directory.authenticate(index % 2 === 0 ? { user: 'alice', secret: 'alice-pw' } : { user: 'alice', secret: 'wrong' })));
      expect(results.map((result) => result?.groups ?? null)).toEqual(Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? ['deployers', 'ops'] : null)));
    });
  });

  it.each([
    ['accepted', { user: 'alice', secret: 'alice-pw' }, true],
    ['refused for its password', { user: 'alice', secret: 'wrong' }, false],
    ['refused for its user', { user: 'mallory', secret: 'wrong' }, false],
  ])('closes the connection of an authentication %s', async (_, credentials, accepted) => {
    const relay = await countingRelay(slapd.url);
    try {
      const viaRelay = new LdapAuthenticator('corp-ldap', { url: relay.url, bindDnTemplate: TEMPLATE, groupSearchBase: GROUPS, timeoutMs: 3000 });
      expect((await viaRelay.authenticate(credentials)) !== undefined).toBe(accepted);
      expect(await settlesToZero(relay.open)).toBe(0);
    } finally {
      await relay.close();
    }
  });

  describe('refuses', () => {
    it('a wrong password, without reporting a server error', async () => {
      await expect(directory.authenticate({ user: 'alice', secret: 'bob-pw' })).resolves.toBeUndefined();
      expect(errors).toEqual([]);
    });

    it('an unknown user, even with a password some user has', async () => {
      await expect(directory.authenticate({ user: 'mallory', secret: 'alice-pw' })).resolves.toBeUndefined();
    });

    it('an empty password, which this server takes as an anonymous bind that succeeds', async () => {
      // The hole is real here: the bind "succeeds" and the session may then read the groups.
      expect(await serverAcceptsBind(slapd.url, dnOf('alice'), '')).toBe(true);
      await expect(directory.authenticate({ user: 'alice', secret: '' })).resolves.toBeUndefined();
      await expect(directory.authenticate({ user: 'alice' })).resolves.toBeUndefined();
    });

    it('a user name that injects RDNs into the bind DN, though the entry it reaches has that password', async () => {
      // Without RFC 4514 escaping, "robot,ou=robots" would bind as uid=robot,ou=robots,ou=people.
      expect(await serverAcceptsBind(slapd.url, TEMPLATE.replace('{user}', 'robot,ou=robots'), 'robot-pw')).toBe(true);
      await expect(directory.authenticate({ user: 'robot,ou=robots', secret: 'robot-pw' })).resolves.toBeUndefined();
    });

    it.each([
      ['a wildcard with a real password', '*', 'alice-pw'],
      ['a filter that closes and reopens', 'admin)(uid=*', 'admin-pw'],
      ['a wildcard prefix', 'al*', 'alice-pw'],
      ['a whole DN as the user name', dnOf('alice'), 'alice-pw'],
      ['an RDN written as the user name', 'uid=alice,ou=people', 'alice-pw'],
      ['a multi-valued RDN', 'alice+cn=alice', 'alice-pw'],
      ['an escaped comma written by the client', 'alice\\,ou=people', 'alice-pw'],
    ])('%s (%j)', async (_, user, secret) => {
      await expect(directory.authenticate({ user, secret })).resolves.toBeUndefined();
      await expect(posix.authenticate({ user, secret })).resolves.toBeUndefined();
    });

    it('to widen a group search: a user named "ad*" gets its own groups, not every "ad…" user\'s', async () => {
      // Unescaped, (memberUid=ad*) is a substring match that also finds admin's wheel.
      expect(await rawGroupSearch(slapd.url, '(&(objectClass=posixGroup)(memberUid=ad*))')).toEqual(['starry', 'wheel']);
      await expect(posix.authenticate({ user: AD_STAR, secret: 'adstar-pw' })).resolves.toEqual({ user: AD_STAR, groups: ['starry'], authentication: 'corp-posix' });
    });

    it.each([
      ['a trailing space', 'alice '],
      ['a leading space', ' alice'],
    ])('a user name with %s, which LDAP matching would ignore', async (_, user) => {
      // The server folds insignificant spaces (RFC 4518 2.6.1): the bind itself would succeed.
      expect(await serverAcceptsBind(slapd.url, TEMPLATE.replace('{user}', escapeDnValue(user)), 'alice-pw')).toBe(true);
      await expect(directory.authenticate({ user, secret: 'alice-pw' })).resolves.toBeUndefined();
    });
  });

  describe('before connecting, refuses', () => {
    let silent: Awaited<ReturnType<typeof silentServer>>;
    let offline: LdapAuthenticator;
    beforeAll(async () => {
      silent = await silentServer();
      offline = new LdapAuthenticator('silent', { url: silent.url, bindDnTemplate: TEMPLATE, groupSearchBase: GROUPS, timeoutMs: 300 });
    });
    afterAll(async () => {
      await silent?.close();
    });

    it('proves a connection would be seen: an ordinary attempt reaches the listener, and closes it on timing out', async () => {
      const before = silent.connections();
      await expect(offline.authenticate({ user: 'alice', secret: 'alice-pw' })).resolves.toBeUndefined();
      expect(silent.connections()).toBe(before + 1);
      expect(await settlesToZero(silent.open)).toBe(0);
    });

    it.each<[string, { user?: string; secret?: string }]>([
      ['an empty password', { user: 'alice', secret: '' }],
      ['no password', { user: 'alice' }],
      ['an empty user', { user: '', secret: 'alice-pw' }],
      ['no user', { secret: 'alice-pw' }],
      ['a NUL in the user name', { user: 'alice\0', secret: 'alice-pw' }],
      ['a newline in the user name', { user: 'alice\nuid=admin', secret: 'alice-pw' }],
      ['a DEL in the user name', { user: 'ali\x7fce', secret: 'alice-pw' }],
      ['a C1 control in the user name', { user: 'ali\u0085ce', secret: 'alice-pw' }],
      ['a lone surrogate in the user name', { user: 'ali\ud800ce', secret: 'alice-pw' }],
    ])('%s', async (_, credentials) => {
      const before = silent.connections();
      await expect(offline.authenticate(credentials)).resolves.toBeUndefined();
      expect(silent.connections()).toBe(before);
    });
  });
});

describe('LdapAuthenticator when the server fails', () => {
  let slapd: Slapd;
  const errors: unknown[] = [];
  const authenticator = (url: string, timeoutMs: number): LdapAuthenticator =>
    new LdapAuthenticator('corp-ldap', { url, bindDnTemplate: TEMPLATE, groupSearchBase: GROUPS, timeoutMs, logError: (error) => errors.push(error) });

  beforeAll(async () => {
    slapd = await startSlapd({ ldif: DIRECTORY });
  });
  afterAll(async () => {
    await slapd?.cleanup();
  });
  beforeEach(() => {
    errors.length = 0;
  });

  it('refuses within the timeout while the server hangs, and recovers when it answers again', async () => {
    // The calls that must succeed get a generous timeout (a loaded machine stalls for seconds); the hang a short one.
    const patient = authenticator(slapd.url, 15_000);
    const hasty = authenticator(slapd.url, 500);
    await expect(patient.authenticate({ user: 'alice', secret: 'alice-pw' })).resolves.toMatchObject({ user: 'alice' });
    await slapd.pause();
    try {
      const { value, ms } = await timed(hasty.authenticate({ user: 'alice', secret: 'alice-pw' }));
      expect(value).toBeUndefined();
      expect(ms).toBeGreaterThanOrEqual(450);
      expect(ms).toBeLessThan(8000);
      expect(errors).toHaveLength(1);
    } finally {
      slapd.resume();
    }
    await expect(patient.authenticate({ user: 'alice', secret: 'alice-pw' })).resolves.toEqual({ user: 'alice', groups: ['deployers', 'ops'], authentication: 'corp-ldap' });
  }, 60_000);

  it('refuses at once, reporting the error, once the server is stopped', async () => {
    // A timeout far above the bound below: a refusal within it cannot be the timeout.
    const ldap = authenticator(slapd.url, 30_000);
    await expect(ldap.authenticate({ user: 'alice', secret: 'alice-pw' })).resolves.toMatchObject({ user: 'alice' });
    await slapd.stop();
    const { value, ms } = await timed(ldap.authenticate({ user: 'alice', secret: 'alice-pw' }));
    expect(value).toBeUndefined();
    expect(ms).toBeLessThan(8000);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/ECONNREFUSED/);
  }, 60_000);
});

describe('LdapAuthenticator over TLS', () => {
  let slapd: Slapd;
  const errors: unknown[] = [];
  const options = (change: Partial<LdapAuthenticatorOptions>): LdapAuthenticatorOptions => ({
    url: slapd.url,
    bindDnTemplate: TEMPLATE,
    groupSearchBase: GROUPS,
    timeoutMs: 3000,
    logError: (error) => errors.push(error),
    ...change,
  });
  const alice = { user: 'alice', secret: 'alice-pw' };
  const accepted = { user: 'alice', groups: ['deployers', 'ops'], authentication: 'tls' };

  beforeAll(async () => {
    // This server refuses simple binds without TLS, so a success proves the password went over TLS.
    slapd = await startSlapd({ ldif: DIRECTORY, tls: true, requireTlsForBind: true });
  });
  afterAll(async () => {
    await slapd?.cleanup();
  });
  beforeEach(() => {
    errors.length = 0;
  });

  it('is refused in plain LDAP by this server', async () => {
    await expect(new LdapAuthenticator('tls', options({})).authenticate(alice)).resolves.toBeUndefined();
    expect(String(errors[0])).toMatch(/confidentiality/i);
  });

  it('binds over ldaps:// with the CA file', async () => {
    await expect(new LdapAuthenticator('tls', options({ url: slapd.ldapsUrl!, tlsCaFile: slapd.caFile! })).authenticate(alice)).resolves.toEqual(accepted);
  });

  it('binds after StartTLS with the CA file, checking the certificate against the url host', async () => {
    await expect(new LdapAuthenticator('tls', options({ startTls: true, tlsCaFile: slapd.caFile! })).authenticate(alice)).resolves.toEqual(accepted);
  });

  it.each([
    ['ldaps://', () => options({ url: slapd.ldapsUrl! })],
    ['StartTLS', () => options({ startTls: true })],
  ])('refuses over %s when the server certificate is not from a trusted CA', async (_, make) => {
    await expect(new LdapAuthenticator('tls', make()).authenticate(alice)).resolves.toBeUndefined();
    expect(String(errors[0])).toMatch(/self[- ]signed|unable to get|certificate/i);
  });
});
