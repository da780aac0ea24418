// Each CA key type signs with the algorithm RFC 5758 / RFC 4055 / RFC 8410 name for it, and each
// requester key type the default policy allows is issued and verifies with openssl.
import { startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr, opensslVerify, type RequesterKeyType } from '../helpers/openssl';
import { asn1parse, csrSpki, issueWithForm, issuingCertificate, viewCertificate } from './support';

interface CaCase {
  readonly keyType: 'p256' | 'p384' | 'rsa2048' | 'ed25519';
  /** How `openssl x509 -text` names the signature algorithm. */
  readonly opensslName: string;
  /** The AlgorithmIdentifier, DER hex: ECDSA and Ed25519 without parameters, RSA with NULL. */
  readonly algorithmIdentifier: string;
}

const CA_CASES: readonly CaCase[] = [
  { keyType: 'p256', opensslName: 'ecdsa-with-SHA256', algorithmIdentifier: '300a06082a8648ce3d040302' },
  { keyType: 'p384', opensslName: 'ecdsa-with-SHA384', algorithmIdentifier: '300a06082a8648ce3d040303' },
  { keyType: 'rsa2048', opensslName: 'sha256WithRSAEncryption', algorithmIdentifier: '300d06092a864886f70d01010b0500' },
  { keyType: 'ed25519', opensslName: 'ED25519', algorithmIdentifier: '300506032b6570' },
];

describe.each(CA_CASES)('a $keyType CA', ({ keyType, opensslName, algorithmIdentifier }) => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ keyType });
  });
  afterAll(() => ca.stop());

  it(`issues a certificate openssl verifies, signed with ${opensslName}`, async () => {
    const pem = await issueWithForm(ca, makeCsr().pem);
    const verified = opensslVerify(pem, ca.rootFile, ca.chainFile);
    expect(verified).toEqual({ ok: true, output: expect.stringMatching(/: OK\n$/) });
    const issued = viewCertificate(pem);

    // openssl prints the algorithm twice: in the TBS and over the signature value
    const named = [...issued.text.matchAll(/Signature Algorithm: (\S+)/g)].map((m) => m[1]);
    expect(named).toEqual([opensslName, opensslName]);

    // RFC 5280 4.1.1.2: the outer signatureAlgorithm and the TBS signature field are identical
    expect(issued.parts.tbsSignatureAlgorithm.encoded.toString('hex')).toBe(algorithmIdentifier);
    expect(issued.parts.signatureAlgorithm.encoded.toString('hex')).toBe(algorithmIdentifier);

    // Node's own check of the signature with the issuing certificate's key
    const issuing = issuingCertificate(ca);
    expect(issued.node.verify(issuing.node.publicKey)).toBe(true);
    expect(issued.node.checkIssued(issuing.node)).toBe(true);
  });

  if (keyType === 'rsa2048') {
    it('gives sha256WithRSAEncryption NULL parameters, in the TBS and outside it (openssl asn1parse)', async () => {
      const issued = viewCertificate(await issueWithForm(ca, makeCsr().pem));
      const lines = asn1parse(issued.der);
      const algorithms = lines.flatMap((line, index) => (line.type === 'OBJECT' && line.value === 'sha256WithRSAEncryption' ? [index] : []));
      expect(algorithms).toHaveLength(2);
      for (const index of algorithms) {
        const parameters = lines[index + 1];
        expect({ type: parameters.type, depth: parameters.depth, length: parameters.length }).toEqual({ type: 'NULL', depth: lines[index].depth, length: 0 });
        // the AlgorithmIdentifier SEQUENCE holds exactly the OID (2 + 9) and the NULL (2 + 0)
        expect({ type: lines[index - 1].type, length: lines[index - 1].length }).toEqual({ type: 'SEQUENCE', length: 13 });
      }
    });
  } else {
    it('gives the signature AlgorithmIdentifier no parameters (openssl asn1parse)', async () => {
      const issued = viewCertificate(await issueWithForm(ca, makeCsr().pem));
      const lines = asn1parse(issued.der);
      const algorithms = lines.flatMap((line, index) => (line.type === 'OBJECT' && line.value === opensslName ? [index] : []));
      expect(algorithms).toHaveLength(2);
      for (const index of algorithms) {
        const wrapper = lines[index - 1];
        expect(wrapper.type).toBe('SEQUENCE');
        // the SEQUENCE holds the OID and nothing else
        expect(wrapper.length).toBe(Buffer.from(algorithmIdentifier, 'hex').length - 2);
        expect(lines[index + 1].depth).toBeLessThan(lines[index].depth);
      }
    });
  }
});

interface RequesterCase {
  readonly keyType: RequesterKeyType;
  readonly opensslKey: RegExp;
  /** keyUsage as openssl prints it: RSA keys can also encipher keys, others only sign. */
  readonly keyUsage: string;
}

const REQUESTER_CASES: readonly RequesterCase[] = [
  { keyType: 'p256', opensslKey: /Public Key Algorithm: id-ecPublicKey[\s\S]*NIST CURVE: P-256/, keyUsage: 'Digital Signature' },
  { keyType: 'p384', opensslKey: /Public Key Algorithm: id-ecPublicKey[\s\S]*NIST CURVE: P-384/, keyUsage: 'Digital Signature' },
  { keyType: 'rsa2048', opensslKey: /Public Key Algorithm: rsaEncryption\s+Public-Key: \(2048 bit\)/, keyUsage: 'Digital Signature, Key Encipherment' },
  { keyType: 'ed25519', opensslKey: /Public Key Algorithm: ED25519/, keyUsage: 'Digital Signature' },
];

describe('requester keys under the default policy (P-256 CA)', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa();
  });
  afterAll(() => ca.stop());

  it.each(REQUESTER_CASES)('issues for a $keyType key, and openssl verifies it', async ({ keyType, opensslKey, keyUsage }) => {
    const csr = makeCsr({ keyType, subject: `/CN=${keyType}.mayfly.test`, extensions: [`subjectAltName=DNS:${keyType}.mayfly.test`] });
    const pem = await issueWithForm(ca, csr.pem);
    expect(opensslVerify(pem, ca.rootFile, ca.chainFile)).toEqual({ ok: true, output: expect.stringMatching(/: OK\n$/) });
    const issued = viewCertificate(pem);
    expect(issued.node.publicKey.export({ format: 'der', type: 'spki' }).equals(csrSpki(csr))).toBe(true);
    expect(issued.text).toMatch(opensslKey);
    expect(issued.text).toMatch(new RegExp(`X509v3 Key Usage: critical\\n\\s+${keyUsage}\\n`));
    // whatever the requester's key, the CA (P-256) signs with ECDSA SHA-256
    expect([...issued.text.matchAll(/Signature Algorithm: (\S+)/g)].map((m) => m[1])).toEqual(['ecdsa-with-SHA256', 'ecdsa-with-SHA256']);
  });
});
