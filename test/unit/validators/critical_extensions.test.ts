import criticalExtensions from '../../../validators/critical_extensions';
import { requestFor } from '../support/csr';

const reasonsFor = (extensions: string[]) => criticalExtensions.check(requestFor({ extensions }), {});

describe('critical_extensions', () => {
  it('is named as in YAML', () => {
    expect(criticalExtensions.name).toBe('critical_extensions');
  });

  it('passes a request without extensions', () => {
    expect(reasonsFor([])).toEqual([]);
  });

  it('passes the extensions Mayfly understands, marked critical', () => {
    expect(
      reasonsFor(['subjectAltName=critical,DNS:svc.mayfly.test', 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=critical,serverAuth']),
    ).toEqual([]);
  });

  it('passes an unknown extension that is not critical', () => {
    expect(reasonsFor(['1.2.3.4=ASN1:UTF8String:hello'])).toEqual([]);
  });

  it('refuses an unknown extension marked critical, by OID', () => {
    expect(reasonsFor(['subjectAltName=DNS:svc.mayfly.test', '1.2.3.4=critical,ASN1:UTF8String:hello'])).toEqual(['the request marks unknown extension 1.2.3.4 critical']);
  });

  it('refuses a standard extension Mayfly does not issue, marked critical', () => {
    expect(reasonsFor(['nameConstraints=critical,permitted;DNS:.mayfly.test'])).toEqual(['the request marks unknown extension 2.5.29.30 critical']);
  });

  it('refuses each unknown critical extension', () => {
    expect(reasonsFor(['1.2.3.4=critical,ASN1:NULL', '1.3.6.1.4.1.99999.7=critical,DER:0500', '1.2.3.5=ASN1:NULL'])).toEqual([
      'the request marks unknown extension 1.2.3.4 critical',
      'the request marks unknown extension 1.3.6.1.4.1.99999.7 critical',
    ]);
  });

  it('takes no options', () => {
    expect(criticalExtensions.options.safeParse({}).success).toBe(true);
    expect(criticalExtensions.options.safeParse({ allow: ['1.2.3.4'] }).success).toBe(false);
  });
});
