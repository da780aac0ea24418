import { TAG } from '../../../../src/der';
import validator from '../../../../validators/name_syntax';
import { asIssued, buildCsr, check, OIDS, opensslRequest, optionIssues, requestFromCsr, subjectAltNameValue } from '../policy_request';

const refusals = (subject: string, san: string | undefined, options: object = {}) =>
  check(validator, options, asIssued(opensslRequest({ subject, extensions: san ? [`subjectAltName=${san}`] : [] })));
const built = (commonNames: readonly { value: string | Uint8Array; tag?: number }[], dns: readonly string[] = []) =>
  asIssued(requestFromCsr(buildCsr({ subject: commonNames.map((cn) => ({ oid: OIDS.commonName, ...cn })), extensions: dns.length > 0 ? [{ oid: OIDS.subjectAltName, value: subjectAltNameValue(dns.map((name) => ({ dns: name }))) }] : [] })));

describe('name_syntax', () => {
  it('passes host names, a leftmost wildcard, A-labels and IPs, in any case and with a trailing dot (they are issued normalised)', () => {
    expect(refusals('/CN=Svc.Mayfly.Test.', 'DNS:*.mayfly.test,DNS:xn--bcher-kva.mayfly.test,DNS:10.0.0.1,IP:2001:db8::1')).toEqual([]);
  });

  it.each(['foo_bar.mayfly.test', '-lead.mayfly.test', 'trail-.mayfly.test', 'a.*.mayfly.test', '127.1'])('refuses %s', (name) => {
    expect(refusals('/CN=ok.mayfly.test', `DNS:${name}`)).toEqual([expect.stringMatching(new RegExp(`^name '${name.replace(/[.*]/g, '\\$&')}' `))]);
  });

  it('allows underscores with allow_underscores, and nothing else that is no host name', () => {
    expect(refusals('/CN=ok.mayfly.test', 'DNS:_srv.foo_bar.mayfly.test', { allow_underscores: true })).toEqual([]);
    expect(refusals('/CN=ok.mayfly.test', 'DNS:-lead.mayfly.test', { allow_underscores: true })).toHaveLength(1);
  });

  it('refuses a CN that is neither a DNS name nor an IP: it would be a SAN', () => {
    expect(check(validator, {}, built([{ value: 'Alice Smith' }]))).toEqual(['name "Alice Smith" contains characters not allowed in a DNS name']);
  });

  it('refuses two CNs', () => {
    expect(check(validator, {}, built([{ value: 'a.mayfly.test' }, { value: 'b.mayfly.test' }]))).toEqual(['the subject has 2 common names; at most one is allowed']);
  });

  it('refuses a CN over 64 characters (RFC 5280 ub-common-name), and passes one of 64', () => {
    const name = (length: number) => `${'a'.repeat(40)}.${'b'.repeat(length - 53)}.mayfly.test`;
    expect(name(65)).toHaveLength(65);
    expect(check(validator, {}, built([{ value: name(64) }]))).toEqual([]);
    expect(check(validator, {}, built([{ value: name(65) }]))).toEqual(['the common name is 65 characters long; at most 64 are allowed (RFC 5280 ub-common-name)']);
  });

  it.each([
    ['BMPString', TAG.BMP_STRING, Buffer.from('ok.mayfly.test', 'utf16le').swap16()],
    ['TeletexString', TAG.T61_STRING, Buffer.from('ok.mayfly.test', 'latin1')],
    ['IA5String', TAG.IA5_STRING, Buffer.from('ok.mayfly.test', 'latin1')],
    ['UniversalString', TAG.UNIVERSAL_STRING, Buffer.from([...'ok.mayfly.test'].flatMap((c) => [0, 0, 0, c.charCodeAt(0)]))],
  ])('refuses a CN sent as a %s', (type, tag, value) => {
    expect(check(validator, {}, built([{ value, tag }]))).toEqual([`the common name is a ${type}; only PrintableString and UTF8String are accepted`]);
  });

  it('passes a CN sent as a PrintableString or UTF8String', () => {
    expect(check(validator, {}, built([{ value: 'ok.mayfly.test', tag: TAG.PRINTABLE_STRING }]))).toEqual([]);
    expect(check(validator, {}, built([{ value: 'ok.mayfly.test', tag: TAG.UTF8_STRING }]))).toEqual([]);
  });

  it('refuses options it does not know', () => {
    expect(optionIssues(validator, { allow_underscore: true })).toEqual([': Unrecognized key: "allow_underscore"']);
  });
});
