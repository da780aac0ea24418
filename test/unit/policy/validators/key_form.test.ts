import { parseCertificationRequest } from '../../../../src/csr/parse';
import keyForm from '../../../../validators/key_form';
import { generateKey, makeCsrWithKey, policyRequest, type GenpkeyType } from '../../support/csr';

const requestWithKey = (keyType: GenpkeyType) => policyRequest(parseCertificationRequest(makeCsrWithKey({ keyPem: generateKey(keyType) }).der));

describe('key_form', () => {
  it('refuses an id-RSASSA-PSS key, whose many encodings would each have their own fingerprint', () => {
    expect(keyForm.check(requestWithKey('rsaPss2048'), {})).toEqual(['an RSASSA-PSS (id-RSASSA-PSS) public key is not issued; send the key as rsaEncryption (a PSS signature on the CSR is fine)']);
  });

  it.each(['rsa2048', 'p256', 'ed25519'] as const)('passes a %s key', (key) => {
    expect(keyForm.check(requestWithKey(key as GenpkeyType), {})).toEqual([]);
  });
});
