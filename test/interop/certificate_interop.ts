// Certificate interop: CA key types `mayfly init` makes × leaf key types (all 30 in `npm run
// test:full`, a slice in `npm test`: matrix.ts), each with a DNS and an IP subjectAltName, checked
// by implementations that share no code with Mayfly or with each other: OpenSSL, Go's crypto/x509,
// GnuTLS and Chromium (BoringSSL + Chromium's verifier, NSS trust).
// Each check also refuses a name the certificate does not hold and a chain to a root not trusted
// (the stranger), so a verifier that accepted everything would fail here.
import { mkdtempSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CA_KEY_TYPES } from '../../src/issuance/ca_bootstrap';
import { opensslVerify } from '../helpers/openssl';
import { CERTTOOL, certtoolVerify, certtoolVerifyChain } from './certtool';
import { CERTUTIL, CHROMIUM, createNssDatabase, serveCertificate, trustRoot, visitWithChromium, type ChromiumVisit } from './chromium';
import { buildGoVerifier, GO, goVerify } from './go_verifier';
import { DNS_NAME, IP_ADDRESS, issueMatrix, LEAF_KEY_TYPES, selectedCaKeyTypes, STRANGER, WRONG_DNS_NAME, WRONG_IP_ADDRESS, type CaseSelection, type InteropCase, type InteropMatrix } from './matrix';
import { itWithTools } from './tools';

/** 'ok', or a pattern of the error the tool must give. */
type Outcome = 'ok' | RegExp;
const NAMES = [DNS_NAME, IP_ADDRESS, WRONG_DNS_NAME, WRONG_IP_ADDRESS] as const;
type Check = (typeof NAMES)[number] | 'chain';

/** Keyed "<case> | <check>", so a mismatch in the diff names the combination. */
type Table = Record<string, unknown>;
const key = (c: InteropCase, check: Check) => `${c.id} | ${check}`;
const expected = (o: Outcome) => (o === 'ok' ? 'ok' : expect.stringMatching(o));

const allCases = (matrix: InteropMatrix) => [...matrix.cases, matrix.stranger];

/** The checks a case gets: the stranger only its own names (and the chain), so trust alone refuses it. */
const checksOf = <C extends Check>(c: InteropCase, checks: readonly C[]): readonly C[] =>
  c.id === STRANGER ? checks.filter((check) => check !== WRONG_DNS_NAME && check !== WRONG_IP_ADDRESS) : checks;

/** The table of outcomes over `checksFor` each case: `outcome` for the matrix, `strangerOutcome` for the control. */
function expectations(matrix: InteropMatrix, checksFor: (c: InteropCase) => readonly Check[], outcome: (c: InteropCase, check: Check) => Outcome, strangerOutcome: Outcome): Table {
  const table: Table = {};
  for (const c of allCases(matrix)) for (const check of checksFor(c)) table[key(c, check)] = expected(c === matrix.stranger ? strangerOutcome : outcome(c, check));
  return table;
}

/** The interop checks as a jest suite, over the `selected` combinations of CA and leaf key types. */
export function certificateInterop(title: string, selected: CaseSelection): void {
  describe(`certificate interop: ${title}`, () => {
    let dir: string;
    let matrix: InteropMatrix;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mayfly-interop-'));
      matrix = await issueMatrix(dir, selected);
    }, 180_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('issued every selected combination', () => {
      const combinations = CA_KEY_TYPES.flatMap((caKeyType) => LEAF_KEY_TYPES.filter((leafKeyType) => selected(caKeyType, leafKeyType)));
      expect(new Set(matrix.cases.map((c) => c.id)).size).toBe(combinations.length);
      expect(new Set(matrix.cases.map((c) => c.caKeyType))).toEqual(new Set(selectedCaKeyTypes(selected)));
    });

    it('OpenSSL: openssl verify -purpose sslserver with -verify_hostname / -verify_ip', () => {
      const actual: Table = {};
      for (const c of allCases(matrix)) {
        for (const name of checksOf(c, NAMES)) {
          const verified = opensslVerify(c.leaf, c.files.root, c.files.intermediate, ['-purpose', 'sslserver', isIP(name) ? '-verify_ip' : '-verify_hostname', name]);
          actual[key(c, name)] = verified.ok ? 'ok' : verified.output.trim();
        }
      }
      const outcome = (_c: InteropCase, name: Check): Outcome =>
        name === WRONG_DNS_NAME ? /hostname mismatch/ : name === WRONG_IP_ADDRESS ? /IP address mismatch/ : 'ok';
      expect(actual).toEqual(expectations(matrix, (c) => checksOf(c, NAMES), outcome, /unable to get local issuer certificate/));
    });

    itWithTools([{ executable: GO, debianPackage: 'golang-go' }], 'Go: crypto/x509 Verify with the serverAuth usage, for the DNS name and the IP', () => {
      const binary = buildGoVerifier(dir);
      const results = goVerify(
        binary,
        allCases(matrix).map((c) => ({ id: c.id, root: c.root, intermediates: c.intermediate, leaf: c.leaf, names: checksOf(c, NAMES) })),
      );
      const actual: Table = {};
      for (const result of results) actual[`${result.id} | ${result.name}`] = result.ok ? 'ok' : result.error;
      const outcome = (_c: InteropCase, name: Check): Outcome => (name === WRONG_DNS_NAME || name === WRONG_IP_ADDRESS ? /certificate is valid for/ : 'ok');
      expect(actual).toEqual(expectations(matrix, (c) => checksOf(c, NAMES), outcome, /certificate signed by unknown authority/));
    }, 120_000);

    itWithTools([{ executable: CERTTOOL, debianPackage: 'gnutls-bin' }], 'GnuTLS: certtool --verify-chain, and --verify against the root for the DNS name and the IP', () => {
      const checks = ['chain', ...NAMES] as const;
      const checksFor = (c: InteropCase) => checksOf(c, checks);
      const actual: Table = {};
      for (const c of allCases(matrix)) {
        actual[key(c, 'chain')] = certtoolVerifyChain([c.leaf, c.intermediate, c.root]);
        for (const name of checksOf(c, NAMES)) actual[key(c, name)] = certtoolVerify(c.files.root, [c.leaf, c.intermediate], name);
      }
      const outcome = (_c: InteropCase, check: Check): Outcome => (check === WRONG_DNS_NAME || check === WRONG_IP_ADDRESS ? /name in the certificate does not match/ : 'ok');
      expect(actual).toEqual(expectations(matrix, checksFor, outcome, /NOT trusted/));
    }, 120_000);

    itWithTools(
      [
        { executable: CHROMIUM, debianPackage: 'chromium' },
        { executable: CERTUTIL, debianPackage: 'libnss3-tools' },
      ],
      'Chromium: a TLS handshake to the DNS name and the IP with the root trusted in NSS',
      async () => {
        const home = join(dir, 'home');
        const database = createNssDatabase(home);
        // NSS cannot hold an Ed25519 root (its certutil refuses it): documented in the README.
        const caKeyTypes = selectedCaKeyTypes(selected);
        const imported = Object.fromEntries(
          caKeyTypes.map((caKeyType) => [caKeyType, trustRoot(database, `mayfly-${caKeyType}`, matrix.cases.find((c) => c.caKeyType === caKeyType)!.files.root)]),
        );
        expect(imported).toEqual(Object.fromEntries(caKeyTypes.map((caKeyType) => [caKeyType, expected(caKeyType === 'ed25519' ? /SEC_ERROR_ADDING_CERT/ : 'ok')])));

        const cases = allCases(matrix);
        const sites = await Promise.all(cases.map((c) => serveCertificate(c.leaf + c.intermediate, c.leafKey, `served by ${c.id}`)));
        try {
          // Each visit costs a tab; a wrong name is tried once per CA key type (with the P-256 leaf).
          const checksFor = (c: InteropCase) => checksOf(c, c.leafKeyType === 'p256' ? [DNS_NAME, IP_ADDRESS, WRONG_DNS_NAME] : [DNS_NAME, IP_ADDRESS]);
          const visits: (ChromiumVisit & { key: string })[] = cases.flatMap((c, index) =>
            checksFor(c).map((host) => ({ key: key(c, host), url: `https://${host}:${sites[index].port}/`, body: sites[index].body })),
          );
          const results = await visitWithChromium(home, `MAP *.mayfly.test ${IP_ADDRESS}`, visits);
          const actual = Object.fromEntries(visits.map((visit) => [visit.key, results.get(visit.url)]));
          const outcome = (c: InteropCase, check: Check): Outcome => {
            // BoringSSL offers no Ed25519 signature algorithm in TLS, and Chromium's verifier does not
            // take Ed25519 signatures on certificates: documented in the README.
            if (c.leafKeyType === 'ed25519') return /^net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH$/;
            if (c.caKeyType === 'ed25519') return /^net::ERR_CERT_/;
            return check === WRONG_DNS_NAME ? /^net::ERR_CERT_COMMON_NAME_INVALID$/ : 'ok';
          };
          expect(actual).toEqual(expectations(matrix, checksFor, outcome, /^net::ERR_CERT_AUTHORITY_INVALID$/));
        } finally {
          await Promise.all(sites.map((site) => site.close()));
        }
      },
      180_000,
    );
  });
}
