import caStatus from '../../../validators/ca_status';
import { extension, handBuiltRequest, requestFor } from '../support/csr';
import { hex } from '../support/asn1';

const reasonsFor = (extensions: string[]) => caStatus.check(requestFor({ extensions }), {});

describe('ca_status', () => {
  it('is named as in YAML', () => {
    expect(caStatus.name).toBe('ca_status');
  });

  it('passes a request without basicConstraints or keyUsage', () => {
    expect(reasonsFor([])).toEqual([]);
  });

  it('passes CA:FALSE and leaf key usages', () => {
    expect(reasonsFor(['basicConstraints=critical,CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment,keyAgreement,nonRepudiation'])).toEqual([]);
  });

  it('refuses CA:TRUE', () => {
    expect(reasonsFor(['basicConstraints=CA:TRUE'])).toEqual(['the request asks for CA:TRUE']);
  });

  it('refuses CA:TRUE with a pathlen twice over', () => {
    expect(reasonsFor(['basicConstraints=critical,CA:TRUE,pathlen:0'])).toEqual(['the request asks for CA:TRUE', 'the request asks for a pathLenConstraint, which only a CA has']);
  });

  it('refuses a pathLenConstraint without CA:TRUE', () => {
    // SEQUENCE { pathLenConstraint 1 }: cA left at its DEFAULT FALSE.
    const request = handBuiltRequest({ extensions: [extension('0603551d13', hex('3003020101'))] });
    expect(request.csr.basicConstraints).toEqual({ ca: false, pathLength: 1 });
    expect(caStatus.check(request, {})).toEqual(['the request asks for a pathLenConstraint, which only a CA has']);
  });

  it('refuses keyCertSign', () => {
    expect(reasonsFor(['keyUsage=digitalSignature,keyCertSign'])).toEqual(['the request asks for key usage keyCertSign, which only a CA has']);
  });

  it('refuses cRLSign', () => {
    expect(reasonsFor(['keyUsage=cRLSign'])).toEqual(['the request asks for key usage cRLSign, which only a CA has']);
  });

  it('gives every reason at once', () => {
    expect(reasonsFor(['basicConstraints=CA:TRUE,pathlen:1', 'keyUsage=keyCertSign,cRLSign'])).toEqual([
      'the request asks for CA:TRUE',
      'the request asks for a pathLenConstraint, which only a CA has',
      'the request asks for key usage keyCertSign, which only a CA has',
      'the request asks for key usage cRLSign, which only a CA has',
    ]);
  });

  it('takes no options', () => {
    expect(caStatus.options.safeParse({}).success).toBe(true);
    expect(caStatus.options.safeParse({ allow_ca: true }).success).toBe(false);
    expect(caStatus.options.safeParse('yes').success).toBe(false);
  });
});
