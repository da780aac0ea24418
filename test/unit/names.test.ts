import {
  classifyName,
  domainReasons,
  inAllowedDomains,
  inNetworks,
  isNetwork,
  isWildcard,
  networkReasons,
  normalizeDnsName,
  parseIpAddress,
  wildcardProblem,
} from '../../src/policy/names';

/** parseIpAddress as "kind text", or undefined. */
const ip = (text: string): string | undefined => {
  const address = parseIpAddress(text);
  return address && `${address.kind()} ${address.toString()}`;
};

/** An address the test knows is valid. */
const address = (text: string) => {
  const parsed = parseIpAddress(text);
  if (!parsed) throw new Error(`test address ${text} did not parse`);
  return parsed;
};

describe('normalizeDnsName', () => {
  it.each([
    ['svc.mayfly.test', 'svc.mayfly.test'],
    ['SVC.Mayfly.TEST', 'svc.mayfly.test'],
    ['svc.mayfly.test.', 'svc.mayfly.test'],
    ['SVC.MAYFLY.TEST.', 'svc.mayfly.test'],
    ['xn--bcher-kva.mayfly.test', 'xn--bcher-kva.mayfly.test'],
    ['XN--BCHER-KVA.mayfly.test', 'xn--bcher-kva.mayfly.test'],
    ['_acme-challenge.mayfly.test', '_acme-challenge.mayfly.test'],
    ['*.mayfly.test', '*.mayfly.test'],
    ['localhost', 'localhost'],
  ])('normalises %j to %j', (raw, name) => {
    expect(normalizeDnsName(raw)).toEqual({ name });
  });

  it.each([
    ['two trailing dots', 'svc.mayfly.test..', 'name "svc.mayfly.test.." has an empty label'],
    ['a leading dot', '.mayfly.test', 'name ".mayfly.test" has an empty label'],
    ['an empty label inside', 'svc..mayfly.test', 'name "svc..mayfly.test" has an empty label'],
    ['the root alone', '.', 'name "." has an empty label'],
    ['an empty string', '', 'name "" has an empty label'],
    ['raw UTF-8', 'bücher.mayfly.test', 'name "bücher.mayfly.test" is not ASCII; send internationalised names as A-labels (xn--)'],
    ['a NUL', 'svc.mayfly.test\u0000.evil.example', 'name "svc.mayfly.test\\u0000.evil.example" contains control characters'],
    ['a newline', 'svc\n.mayfly.test', 'name "svc\\n.mayfly.test" contains control characters'],
    ['DEL', 'svc\u007f.mayfly.test', 'name "svc\u007f.mayfly.test" contains control characters'],
    ['a space', 'svc mayfly.test', 'name "svc mayfly.test" contains characters not allowed in a DNS name'],
    ['a slash', 'svc/x.mayfly.test', 'name "svc/x.mayfly.test" contains characters not allowed in a DNS name'],
    ['an at sign', 'ops@mayfly.test', 'name "ops@mayfly.test" contains characters not allowed in a DNS name'],
  ])('refuses %s', (_, raw, problem) => {
    expect(normalizeDnsName(raw)).toEqual({ problem });
  });

  it('refuses a label longer than 63 octets (RFC 1035 2.3.4)', () => {
    expect(normalizeDnsName(`${'a'.repeat(64)}.mayfly.test`)).toHaveProperty('problem');
    expect(normalizeDnsName(`${'a'.repeat(63)}.mayfly.test`)).toEqual({ name: `${'a'.repeat(63)}.mayfly.test` });
  });
});

describe('wildcards', () => {
  it.each([
    ['*.mayfly.test', true],
    ['*.svc.mayfly.test', true],
    ['svc.mayfly.test', false],
    ['*svc.mayfly.test', false],
    ['svc.*.mayfly.test', false],
    ['*.*.mayfly.test', false],
    ['*', false],
  ])('isWildcard(%j) is %s', (name, wildcard) => {
    expect(isWildcard(name)).toBe(wildcard);
  });

  it.each(['*svc.mayfly.test', 's*c.mayfly.test', 'svc.*.mayfly.test', '*.*.mayfly.test', 'svc.mayfly.*', '*'])('wildcardProblem names the misplaced * in %j', (name) => {
    expect(wildcardProblem(name)).toBe(`name '${name}' has a wildcard that is not the whole leftmost label`);
  });

  it.each(['*.mayfly.test', 'svc.mayfly.test'])('wildcardProblem has nothing to say about %j', (name) => {
    expect(wildcardProblem(name)).toBeUndefined();
  });
});

describe('inAllowedDomains', () => {
  it('matches a leading-dot entry for names under the domain, at any depth', () => {
    expect(inAllowedDomains('svc.mayfly.test', ['.mayfly.test'])).toBe(true);
    expect(inAllowedDomains('a.b.svc.mayfly.test', ['.mayfly.test'])).toBe(true);
    expect(inAllowedDomains('*.mayfly.test', ['.mayfly.test'])).toBe(true);
  });

  it('does not match a leading-dot entry with the domain itself', () => {
    expect(inAllowedDomains('mayfly.test', ['.mayfly.test'])).toBe(false);
  });

  it('does not match a name that merely ends with the same letters', () => {
    expect(inAllowedDomains('evilmayfly.test', ['.mayfly.test'])).toBe(false);
    expect(inAllowedDomains('mayfly.test.evil.example', ['.mayfly.test'])).toBe(false);
  });

  it('matches an entry without a leading dot exactly, and nothing under it', () => {
    expect(inAllowedDomains('mayfly.test', ['mayfly.test'])).toBe(true);
    expect(inAllowedDomains('svc.mayfly.test', ['mayfly.test'])).toBe(false);
  });

  it('compares entries case-insensitively and ignores one trailing dot on an entry', () => {
    expect(inAllowedDomains('svc.mayfly.test', ['.MAYFLY.Test.'])).toBe(true);
    expect(inAllowedDomains('mayfly.test', ['Mayfly.Test.'])).toBe(true);
  });

  it('matches when any entry matches, and never with no entries', () => {
    expect(inAllowedDomains('svc.other.test', ['.mayfly.test', '.other.test'])).toBe(true);
    expect(inAllowedDomains('svc.mayfly.test', [])).toBe(false);
  });
});

describe('parseIpAddress', () => {
  it.each([
    ['10.0.0.1', 'ipv4 10.0.0.1'],
    ['0.0.0.0', 'ipv4 0.0.0.0'],
    ['255.255.255.255', 'ipv4 255.255.255.255'],
    ['2001:db8::1', 'ipv6 2001:db8::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', 'ipv6 2001:db8::1'],
    ['::1', 'ipv6 ::1'],
    ['::', 'ipv6 ::'],
  ])('reads %j as %s', (text, expected) => {
    expect(ip(text)).toBe(expected);
  });

  it.each([
    ['::ffff:127.0.0.1', 'ipv4 127.0.0.1'],
    ['::FFFF:10.1.2.3', 'ipv4 10.1.2.3'],
    ['::ffff:7f00:1', 'ipv4 127.0.0.1'],
    ['0:0:0:0:0:ffff:a01:203', 'ipv4 10.1.2.3'],
  ])('reads the IPv4-mapped IPv6 address %j as the IPv4 address', (text, expected) => {
    expect(ip(text)).toBe(expected);
  });

  it.each([
    ['127.1'],
    ['10.1.2'],
    ['0x7f.0.0.1'],
    ['0x7f000001'],
    ['2130706433'],
    ['0177.0.0.1'],
    ['127.0.0.01'],
    ['256.0.0.1'],
    ['svc.mayfly.test'],
    ['10.0.0.1 '],
    [''],
  ])('refuses %j', (text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });

  it.each([['::ffff:0x7f.0.0.1'], ['::ffff:0177.0.0.1'], ['::ffff:127.0.0.01']])('refuses the non-dotted-quad IPv4 form inside the IPv6 address %j', (text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });

  it('does not turn the IPv4-compatible address ::127.0.0.1 (::7f00:1, RFC 4291 2.5.5.1) into the IPv4 address 127.0.0.1', () => {
    expect([undefined, 'ipv6 ::7f00:1']).toContain(ip('::127.0.0.1'));
  });
});

describe('inNetworks', () => {
  it('matches IPv4 addresses against IPv4 networks, at the edges', () => {
    expect(inNetworks(address('10.0.0.0'), ['10.0.0.0/8'])).toBe(true);
    expect(inNetworks(address('10.255.255.255'), ['10.0.0.0/8'])).toBe(true);
    expect(inNetworks(address('11.0.0.0'), ['10.0.0.0/8'])).toBe(false);
    expect(inNetworks(address('9.255.255.255'), ['10.0.0.0/8'])).toBe(false);
  });

  it('matches IPv6 addresses against IPv6 networks', () => {
    expect(inNetworks(address('2001:db8:ffff::5'), ['2001:db8::/32'])).toBe(true);
    expect(inNetworks(address('2001:db9::5'), ['2001:db8::/32'])).toBe(false);
    expect(inNetworks(address('2001:db8::5'), ['2001:DB8::/32'])).toBe(true);
  });

  it('treats a bare address as /32 or /128', () => {
    expect(inNetworks(address('10.0.0.1'), ['10.0.0.1'])).toBe(true);
    expect(inNetworks(address('10.0.0.2'), ['10.0.0.1'])).toBe(false);
    expect(inNetworks(address('::1'), ['::1'])).toBe(true);
    expect(inNetworks(address('::2'), ['::1'])).toBe(false);
  });

  it('matches an IPv4-mapped address against an IPv4 network', () => {
    expect(inNetworks(address('::ffff:10.1.2.3'), ['10.0.0.0/8'])).toBe(true);
    expect(inNetworks(address('::ffff:11.1.2.3'), ['10.0.0.0/8'])).toBe(false);
  });

  it('matches an IPv4 address against an IPv4-mapped network, shifting the prefix by 96', () => {
    expect(inNetworks(address('10.1.2.3'), ['::ffff:10.0.0.0/104'])).toBe(true);
    expect(inNetworks(address('11.1.2.3'), ['::ffff:10.0.0.0/104'])).toBe(false);
    expect(inNetworks(address('10.0.0.1'), ['::ffff:10.0.0.1'])).toBe(true);
    expect(inNetworks(address('10.0.0.2'), ['::ffff:10.0.0.1'])).toBe(false);
  });

  it('never matches across address families', () => {
    expect(inNetworks(address('10.0.0.1'), ['::/0'])).toBe(false);
    expect(inNetworks(address('2001:db8::1'), ['0.0.0.0/0'])).toBe(false);
  });

  it('matches when any network matches, and never with no networks', () => {
    expect(inNetworks(address('192.168.1.1'), ['10.0.0.0/8', '192.168.0.0/16'])).toBe(true);
    expect(inNetworks(address('10.0.0.1'), [])).toBe(false);
  });
});

describe('isNetwork', () => {
  it.each(['10.0.0.0/8', '10.0.0.1', '2001:db8::/32', '::1', '::ffff:10.0.0.0/104', '0.0.0.0/0'])('accepts %j', (text) => {
    expect(isNetwork(text)).toBe(true);
  });

  it.each(['10.0.0.0/33', '2001:db8::/129', 'mayfly.test', '10.0.0.0/8/8', '', '10.0.0.0/'])('refuses %j', (text) => {
    expect(isNetwork(text)).toBe(false);
  });

  // "10.1/16" is read by ipaddr.js as 10.0.0.1/16 (= 10.0.0.0/16), "012.0.0.0/8" as 10.0.0.0/8:
  // the forms parseIpAddress refuses for names must not slip into allowed_networks either.
  it.each(['10.1/16', '10.1', '012.0.0.0/8', '0x0a.0.0.0/8'])('refuses the non-dotted-quad IPv4 form %j', (text) => {
    expect(isNetwork(text)).toBe(false);
  });
});

describe('classifyName', () => {
  it('classifies a DNS name, normalised, with its wildcard flag', () => {
    expect(classifyName('SVC.Mayfly.Test.')).toEqual({ kind: 'dns', raw: 'SVC.Mayfly.Test.', name: 'svc.mayfly.test', wildcard: false });
    expect(classifyName('*.mayfly.test')).toEqual({ kind: 'dns', raw: '*.mayfly.test', name: '*.mayfly.test', wildcard: true });
  });

  it('classifies an IP written as a name as the IP it is', () => {
    const identifier = classifyName('::ffff:10.0.0.1');
    expect(identifier.kind).toBe('ip');
    expect(identifier.kind === 'ip' && identifier.address.toString()).toBe('10.0.0.1');
  });

  it('classifies a short IPv4 form as a DNS name, not an IP', () => {
    expect(classifyName('127.1')).toEqual({ kind: 'dns', raw: '127.1', name: '127.1', wildcard: false });
  });

  it('classifies a misplaced wildcard and a NUL as invalid, with the problem', () => {
    expect(classifyName('a.*.mayfly.test')).toEqual({ kind: 'invalid', raw: 'a.*.mayfly.test', problem: "name 'a.*.mayfly.test' has a wildcard that is not the whole leftmost label" });
    expect(classifyName('a\u0000b')).toEqual({ kind: 'invalid', raw: 'a\u0000b', problem: 'name "a\\u0000b" contains control characters' });
  });
});

describe('domainReasons and networkReasons', () => {
  const dns = (raw: string) => {
    const identifier = classifyName(raw);
    if (identifier.kind !== 'dns') throw new Error(`${raw} is not a DNS name`);
    return identifier;
  };

  it('refuses a wildcard unless allowed, then checks the domain', () => {
    expect(domainReasons('DNS name', dns('*.mayfly.test'), ['.mayfly.test'], false)).toEqual(["DNS name '*.mayfly.test' is a wildcard, which this RA does not allow"]);
    expect(domainReasons('DNS name', dns('*.mayfly.test'), ['.mayfly.test'], true)).toEqual([]);
    expect(domainReasons('DNS name', dns('*.evil.example'), ['.mayfly.test'], true)).toEqual(["DNS name '*.evil.example' is outside the allowed domains [.mayfly.test]"]);
  });

  it('quotes the name as the request wrote it and lists every allowed domain', () => {
    expect(domainReasons('common name', dns('EVIL.example.'), ['.mayfly.test', 'mayfly.test'], false)).toEqual(["common name 'EVIL.example.' is outside the allowed domains [.mayfly.test, mayfly.test]"]);
  });

  it('names the address and the networks', () => {
    expect(networkReasons('IP address', address('10.0.0.1'), ['10.0.0.0/8'])).toEqual([]);
    expect(networkReasons('IP address', address('::ffff:11.0.0.1'), ['10.0.0.0/8', '::1'])).toEqual(['IP address 11.0.0.1 is outside the allowed networks [10.0.0.0/8, ::1]']);
  });
});
