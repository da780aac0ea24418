import { classifyName } from '../../../../src/policy/names';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DenyList } from '../../../../src/policy/deny_list';
import type { PolicyRequest } from '../../../../src/policy/validator';
import validator from '../../../../validators/deny_list';
import { eventually } from '../../../helpers/eventually';
import { makeCsr } from '../../../helpers/openssl';
import { hex, tlv } from '../../support/asn1';
import { buildCsr as buildRawCsr } from '../../support/csr';
import { buildCsr, OIDS, optionIssues, requestFromCsr, subjectAltNameValue } from '../policy_request';

const FIXTURES = resolve(__dirname, '../../../fixtures/policy');

/** SHA-256 of the SPKI, computed from the private key, independently of the CSR parser. */
const spkiSha256 = (keyPem: string): string =>
  createHash('sha256').update(createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' })).digest('hex');

const withColons = (hex: string): string => hex.match(/../g)!.join(':');

let dir: string;
let lists: DenyList[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mayfly-deny-'));
  lists = [];
});

afterEach(() => {
  for (const list of lists) list.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Options as the config loader makes them, with the DenyList remembered so afterEach closes it. */
function prepared(file: string, configDir = dir) {
  const options = validator.prepare!(validator.options.parse({ file }), { configDir });
  lists.push(options.list!);
  return options;
}

function writeList(text: string, name = 'deny.txt'): string {
  writeFileSync(join(dir, name), text);
  return name;
}

/** Replaces the file the way editors and config management do: write a temporary file, then rename it over. */
function replaceList(name: string, text: string): void {
  const temporary = join(dir, `.${name}.tmp`);
  writeFileSync(temporary, text);
  renameSync(temporary, join(dir, name));
}

const san = (subject: string, names: string) => makeCsr({ subject, extensions: [`subjectAltName=${names}`] });

describe('deny_list', () => {
  describe('public keys', () => {
    let csr: ReturnType<typeof makeCsr>;
    let request: PolicyRequest;
    let fingerprint: string;

    beforeAll(() => {
      csr = san('/CN=a.example.com', 'DNS:a.example.com');
      request = requestFromCsr(csr.pem);
      fingerprint = spkiSha256(csr.keyPem);
    });

    it.each([
      ['lower-case hex', (hex: string) => hex],
      ['upper-case hex with colons', (hex: string) => withColons(hex).toUpperCase()],
      ['a sha256: prefix', (hex: string) => `sha256:${hex}`],
      ['a SHA256: prefix and colons', (hex: string) => `SHA256:${withColons(hex)}`],
    ])('refuses a listed key written as %s', (_form, write) => {
      const options = prepared(writeList(`# keys\n${write(fingerprint)}\n`));
      expect(validator.check(request, options)).toEqual([`the public key (SHA-256 ${fingerprint}) is on the deny list`]);
    });

    it('passes a key that is not listed', () => {
      const other = spkiSha256(makeCsr().keyPem);
      const options = prepared(writeList(`${other}\n`));
      expect(validator.check(request, options)).toEqual([]);
    });

    it('refuses a listed key sent as a compressed EC point', () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const uncompressed = publicKey.export({ format: 'der', type: 'spki' });
      const point = uncompressed.subarray(uncompressed.length - 65);
      const compressed = tlv(0x30, uncompressed.subarray(2, 4 + uncompressed[3]), tlv(0x03, hex('00'), Buffer.concat([Buffer.of(0x02 | (point[64] & 1)), point.subarray(1, 33)])));
      const parsed = requestFromCsr(buildRawCsr({ spki: compressed, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }));
      // The csr stage makes the one canonical SPKI (the point uncompressed) the ledger and the certificate use.
      expect(compressed.length).toBe(59);
      expect(Buffer.from(parsed.csr.publicKey.spki)).toEqual(uncompressed);
      const listed = createHash('sha256').update(uncompressed).digest('hex');
      const options = prepared(writeList(`${listed}\n`, 'compressed.txt'));
      expect(validator.check(parsed, options)).toEqual([`the public key (SHA-256 ${listed}) is on the deny list`]);
    });

    it('handles RSA and Ed25519 keys too', () => {
      for (const keyType of ['rsa2048', 'ed25519'] as const) {
        const made = makeCsr({ keyType, subject: '/CN=a.example.com' });
        const hex = spkiSha256(made.keyPem);
        const options = prepared(writeList(`${hex}\n`, `${keyType}.txt`));
        expect(validator.check(requestFromCsr(made.pem), options)).toEqual([`the public key (SHA-256 ${hex}) is on the deny list`]);
      }
    });
  });

  describe('names (fixture file, resolved against configDir)', () => {
    const check = (subject: string, names: string) => validator.check(requestFromCsr(san(subject, names).pem), prepared('deny_list.txt', FIXTURES));

    it('passes names that are not listed', () => {
      expect(check('/CN=a.example.com', 'DNS:a.example.com,IP:10.9.8.6')).toEqual([]);
    });

    it('refuses a listed CN, DNS name and IP, each with its source', () => {
      expect(check('/CN=old-db.example.com', 'DNS:leaked.example.com,IP:10.9.8.7')).toEqual([
        "common name 'old-db.example.com' is on the deny list",
        "DNS name 'leaked.example.com' is on the deny list",
        "IP address '10.9.8.7' is on the deny list",
      ]);
    });

    it('compares names case-insensitively and without the trailing dot', () => {
      expect(check('/CN=a.example.com', 'DNS:LEAKED.example.com.,DNS:Old-DB.Example.Com')).toEqual([
        "DNS name 'LEAKED.example.com.' is on the deny list",
        "DNS name 'Old-DB.Example.Com' is on the deny list",
      ]);
    });

    it('compares IPs as addresses: IPv6 in any spelling, IPv4-mapped as IPv4', () => {
      expect(check('/CN=a.example.com', 'IP:2001:db8::66,IP:::ffff:10.9.8.7')).toEqual([
        "IP address '2001:db8::66' is on the deny list",
        "IP address '::ffff:a09:807' is on the deny list",
      ]);
    });

    it('ignores comment lines', () => {
      expect(check('/CN=compromised.example.com', 'DNS:compromised.example.com')).toEqual([]);
    });

    it('matches entries exactly: a listed name does not cover names under it', () => {
      expect(check('/CN=a.example.com', 'DNS:x.leaked.example.com')).toEqual([]);
    });
  });

  it('refuses a listed wildcard exactly as written', () => {
    const options = prepared(writeList('*.example.com\n'));
    expect(validator.check(requestFromCsr(san('/CN=a.example.com', 'DNS:*.EXAMPLE.com').pem), options)).toEqual(["DNS name '*.EXAMPLE.com' is on the deny list"]);
    expect(validator.check(requestFromCsr(san('/CN=a.example.com', 'DNS:a.example.com').pem), options)).toEqual([]);
  });

  it('refuses a listed A-label', () => {
    const options = prepared(writeList('xn--bcher-kva.example\n'));
    expect(validator.check(requestFromCsr(san('/CN=a.example.com', 'DNS:XN--BCHER-KVA.example').pem), options)).toEqual([
      "DNS name 'XN--BCHER-KVA.example' is on the deny list",
    ]);
  });

  // A client that stops at the NUL reads "leaked.example.com": a listed name must not pass that way.
  it('does not pass a listed name followed by a NUL', () => {
    const options = prepared(writeList('leaked.example.com\n'));
    const der = buildCsr({
      subject: [{ oid: OIDS.commonName, value: 'a.example.com' }],
      extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'leaked.example.com\u0000.example.org' }]) }],
    });
    expect(validator.check(requestFromCsr(der), options)).toEqual([`DNS name: name ${JSON.stringify('leaked.example.com\u0000.example.org')} contains control characters`]);
  });

  it('refuses a wildcard that would cover a listed name', () => {
    const options = prepared(writeList('leaked.example.com\n'));
    expect(validator.check(requestFromCsr(san('/CN=a.example.com', 'DNS:*.example.com').pem), options)).toEqual(["DNS name '*.example.com' is on the deny list"]);
    expect(validator.check(requestFromCsr(san('/CN=a.example.com', 'DNS:*.other.example.com').pem), options)).toEqual([]);
  });

  it('gives the key and every listed name as reasons', () => {
    const made = san('/CN=leaked.example.com', 'DNS:leaked.example.com');
    const hex = spkiSha256(made.keyPem);
    const options = prepared(writeList(`${hex}\nleaked.example.com\n`));
    expect(validator.check(requestFromCsr(made.pem), options)).toEqual([
      `the public key (SHA-256 ${hex}) is on the deny list`,
      // The CN and its copy in the SAN are one name, reported once.
      "common name 'leaked.example.com' is on the deny list",
    ]);
  });

  describe('changes to the file take effect without a reload', () => {
    it('sees an entry added by rewriting the file in place', async () => {
      const name = writeList('# nothing yet\n');
      const options = prepared(name);
      const request = requestFromCsr(san('/CN=a.example.com', 'DNS:a.example.com').pem);
      expect(validator.check(request, options)).toEqual([]);
      writeFileSync(join(dir, name), '# now\na.example.com\n');
      expect(await eventually(() => validator.check(request, options).length > 0)).toBe(true);
      expect(validator.check(request, options)).toEqual(["common name 'a.example.com' is on the deny list"]);
    });

    it('sees a key added and a name removed by write-temp-then-rename', async () => {
      const made = san('/CN=a.example.com', 'DNS:b.example.com');
      const hex = spkiSha256(made.keyPem);
      const request = requestFromCsr(made.pem);
      const name = writeList('b.example.com\n');
      const options = prepared(name);
      expect(validator.check(request, options)).toEqual(["DNS name 'b.example.com' is on the deny list"]);
      replaceList(name, `sha256:${withColons(hex)}\n`);
      expect(await eventually(() => validator.check(request, options)[0]?.startsWith('the public key') ?? false)).toBe(true);
      expect(validator.check(request, options)).toEqual([`the public key (SHA-256 ${hex}) is on the deny list`]);
    });

    it('keeps the last list while the file is briefly absent', async () => {
      const name = writeList('a.example.com\n');
      const options = prepared(name);
      const request = requestFromCsr(san('/CN=a.example.com', 'DNS:a.example.com').pem);
      unlinkSync(join(dir, name));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(validator.check(request, options)).toEqual(["common name 'a.example.com' is on the deny list"]);
      writeFileSync(join(dir, name), 'other.example.com\n');
      expect(await eventually(() => validator.check(request, options).length === 0)).toBe(true);
    });
  });

  describe('options and prepare', () => {
    it('resolves a relative file against the config folder', () => {
      const options = prepared('deny_list.txt', FIXTURES);
      expect(options.list!.file).toBe(join(FIXTURES, 'deny_list.txt'));
      expect(options.list!.covers(classifyName('LEAKED.example.com'))).toBe(true);
    });

    it('refuses a file that cannot be read, naming its full path', () => {
      expect(() => validator.prepare!(validator.options.parse({ file: 'missing.txt' }), { configDir: dir })).toThrow(
        new Error(`the deny list ${join(dir, 'missing.txt')} cannot be read`),
      );
    });

    it('requires file', () => {
      expect(optionIssues(validator, {})).toEqual(['file: Invalid input: expected string, received undefined']);
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { file: 'deny.txt', path: 'deny.txt' })).toEqual([': Unrecognized key: "path"']);
    });

    it('refuses a wrong type and an empty path', () => {
      expect(optionIssues(validator, { file: 5 })).toEqual(['file: Invalid input: expected string, received number']);
      expect(optionIssues(validator, { file: '' })).toEqual(['file: Too small: expected string to have >=1 characters']);
    });
  });
});
