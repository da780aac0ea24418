import { createHash, X509Certificate } from 'node:crypto';
import { ClientUsageError, TrustError } from '../../../src/client/errors';
import { parseRootFingerprint, TrustAnchors } from '../../../src/client/trust';
import { createTestPki, type TestPki } from '../../helpers/test_pki';

const fingerprintOf = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

describe('root fingerprints', () => {
  const hex = 'e4bf76abdcdbd840dbb1e116b0c0348b22427628c7aebe2ccada01de2692e9c7';

  it('accepts the forms people paste: SHA256:hex, colons, upper case, bare hex', () => {
    const colons = hex.match(/../g)!.join(':');
    for (const text of [hex, `SHA256:${hex}`, `sha256:${hex.toUpperCase()}`, colons.toUpperCase(), `SHA256:${colons}`, ` ${hex}\n`]) {
      expect(parseRootFingerprint(text)).toBe(hex);
    }
  });

  it('refuses what is not a SHA-256 fingerprint', () => {
    for (const text of [hex.slice(2), `${hex}00`, `SHA1:${hex}`, `${hex.slice(1)}g`, '', 'SHA256:']) {
      expect(() => parseRootFingerprint(text)).toThrow(ClientUsageError);
    }
  });
});

describe('TrustAnchors', () => {
  let pki: TestPki;
  let rogue: TestPki;
  beforeAll(() => {
    pki = createTestPki('Mayfly');
    rogue = createTestPki('Rogue');
  });
  afterAll(() => {
    pki.remove();
    rogue.remove();
  });

  const parse = (pem: string) => new X509Certificate(pem);

  it('pins the root whose fingerprint was given, out of the server\'s chain', () => {
    const anchors = TrustAnchors.pinByFingerprint(pki.chainPem, fingerprintOf(pki.root.cert), 'the server');
    expect(anchors.roots.map((root) => root.raw)).toEqual([parse(pki.root.cert).raw]);
    expect(anchors.pem).toBe(parse(pki.root.cert).toString());
  });

  it('refuses a chain without that root, naming what it has', () => {
    expect(() => TrustAnchors.pinByFingerprint(rogue.chainPem, fingerprintOf(pki.root.cert), 'the server')).toThrow(
      new RegExp(`has no certificate with fingerprint SHA256:${fingerprintOf(pki.root.cert)}; it has: CN=Rogue Issuing CA .*CN=Rogue Root`),
    );
    expect(() => TrustAnchors.pinByFingerprint('', fingerprintOf(pki.root.cert), 'the server')).toThrow(TrustError);
  });

  it('refuses to pin a fingerprint that names the intermediate, not a root', () => {
    expect(() => TrustAnchors.pinByFingerprint(pki.chainPem, fingerprintOf(pki.intermediate.cert), 'the server')).toThrow(/is not a self-signed root CA/);
  });

  it('accepts an issued leaf that chains through the intermediate to the root, and returns the intermediate', () => {
    const anchors = TrustAnchors.fromPem(pki.root.cert, 'root.pem');
    const leaf = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test']);
    const intermediates = anchors.verifyIssued(parse(leaf.cert), [parse(pki.intermediate.cert), parse(pki.root.cert)]);
    expect(intermediates.map((c) => c.subject)).toEqual(['CN=Mayfly Issuing CA']);
  });

  it('refuses a leaf from another CA, even when the chain sent with it is the trusted one', () => {
    const anchors = TrustAnchors.fromPem(pki.root.cert, 'root.pem');
    const foreign = rogue.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test']);
    expect(() => anchors.verifyIssued(parse(foreign.cert), [parse(pki.intermediate.cert)])).toThrow(/does not chain to the trusted root/);
    expect(() => anchors.verifyIssued(parse(foreign.cert), [parse(rogue.intermediate.cert), parse(rogue.root.cert)])).toThrow(/does not chain to the trusted root/);
  });

  it('refuses a leaf whose issuing certificate is missing from the chain', () => {
    const anchors = TrustAnchors.fromPem(pki.root.cert, 'root.pem');
    const leaf = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test']);
    expect(() => anchors.verifyIssued(parse(leaf.cert), [])).toThrow(/does not chain/);
  });

  it('refuses a CA certificate where a leaf is expected, and an expired leaf', () => {
    const anchors = TrustAnchors.fromPem(pki.root.cert, 'root.pem');
    const ca = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test'], { ca: true });
    expect(() => anchors.verifyIssued(parse(ca.cert), [parse(pki.intermediate.cert)])).toThrow(/a CA certificate, not a leaf/);
    const leaf = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test']);
    const later = Date.parse(parse(leaf.cert).validTo) + 1000;
    expect(() => anchors.verifyIssued(parse(leaf.cert), [parse(pki.intermediate.cert)], later)).toThrow(/expired/);
  });

  it('refuses a cacert file without certificates', () => {
    expect(() => TrustAnchors.fromPem('not a certificate', 'root.pem')).toThrow(ClientUsageError);
  });
});
