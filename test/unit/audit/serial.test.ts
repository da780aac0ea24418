import { normalizeSerial } from '../../../src/audit/serial';

describe('normalizeSerial', () => {
  const stored = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

  it.each([
    [stored, 'as the ledger keeps it'],
    ['0A1B2C3D4E5F60718293A4B5C6D7E8F9', 'upper case'],
    ['0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9', "OpenSSL's colons"],
    ['0a 1b 2c 3d 4e 5f 60 71 82 93 a4 b5 c6 d7 e8 f9', 'spaces'],
    ['a1b2c3d4e5f60718293a4b5c6d7e8f9', 'its leading zero dropped'],
    ['000a1b2c3d4e5f60718293a4b5c6d7e8f9', 'more leading zeros'],
    ['0x0A1B2C3D4E5F60718293A4B5C6D7E8F9', 'a 0x prefix'],
    ['  0a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:c6:d7:e8:f9\n', 'pasted with white space around it'],
  ])('reads %s (%s)', (text) => {
    expect(normalizeSerial(text)).toBe(stored);
  });

  it('keeps the 00 octet DER puts before a first octet with its top bit set', () => {
    expect(normalizeSerial('80:01')).toBe('008001');
    expect(normalizeSerial('00:80:01')).toBe('008001');
    expect(normalizeSerial('1')).toBe('01');
  });

  it.each([
    ['', 'nothing'],
    ['0', 'zero (RFC 5280: positive)'],
    ['00:00', 'zero with colons'],
    ['xyz', 'not hex'],
    ['12g4', 'a letter that is not a hex digit'],
    ['-0a1b', 'a sign'],
    ['41'.repeat(21), 'over 20 octets'],
  ])('refuses %s (%s)', (text) => {
    expect(normalizeSerial(text)).toBeUndefined();
  });
});
