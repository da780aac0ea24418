import { parseCertificationRequest } from '../../../src/csr/parse';
import csrSignature from '../../../validators/csr_signature';
import { makeCsr, type RequesterKeyType } from '../../helpers/openssl';
import { generateKey, makeCsrWithKey, policyRequest } from '../support/csr';

/** The DER with its last octet (inside the signature BIT STRING) changed. */
const withSignatureFlipped = (der: Buffer): Buffer => {
  const copy = Buffer.from(der);
  copy[copy.length - 1] ^= 0x01;
  return copy;
};

describe('csr_signature', () => {
  it('is named as in YAML', () => {
    expect(csrSignature.name).toBe('csr_signature');
  });

  it.each<[RequesterKeyType, string]>([
    ['p256', 'ecdsa-with-SHA256'],
    ['p384', 'ecdsa-with-SHA256'],
    ['rsa2048', 'sha256WithRSAEncryption'],
    ['ed25519', 'Ed25519'],
  ])('passes a %s request signed by its own key, and refuses it with a signature octet changed', (keyType, algorithm) => {
    const { der } = makeCsr({ keyType });
    expect(csrSignature.check(policyRequest(parseCertificationRequest(der)), {})).toEqual([]);
    expect(csrSignature.check(policyRequest(parseCertificationRequest(withSignatureFlipped(der))), {})).toEqual([
      `the CSR's signature (${algorithm}) does not verify with its own public key`,
    ]);
  });

  it('passes an RSASSA-PSS request and refuses it changed', () => {
    const { der } = makeCsrWithKey({ keyPem: generateKey('rsa2048'), sigopts: ['rsa_padding_mode:pss'] });
    expect(csrSignature.check(policyRequest(parseCertificationRequest(der)), {})).toEqual([]);
    expect(csrSignature.check(policyRequest(parseCertificationRequest(withSignatureFlipped(der))), {})).toEqual([
      "the CSR's signature (RSASSA-PSS (sha256)) does not verify with its own public key",
    ]);
  });

  it('refuses a request whose subject was changed after signing', () => {
    const { der } = makeCsr();
    const changed = Buffer.from(der);
    changed[changed.indexOf('svc.mayfly.test')] = 'x'.charCodeAt(0);
    const request = policyRequest(parseCertificationRequest(changed));
    expect(request.csr.commonNames).toEqual(['xvc.mayfly.test']);
    expect(csrSignature.check(request, {})).toEqual(["the CSR's signature (ecdsa-with-SHA256) does not verify with its own public key"]);
  });

  it('takes no options', () => {
    expect(csrSignature.options.safeParse({}).success).toBe(true);
    expect(csrSignature.options.safeParse({ enabled: false }).success).toBe(false);
  });
});
