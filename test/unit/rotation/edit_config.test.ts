import { editSigningCa } from '../../../src/cli/ca';
import { withCommonName } from '../../../src/issuance/ca_bootstrap';
import { encodeName } from '../../../src/x509/name';
import { parseConfig } from '../../../src/config/load';
import { openssl } from '../../helpers/openssl';

// The YAML edit `mayfly ca rotate` makes: a few splices, every other byte as the operator wrote it.

const change = {
  set: { cert: 'ca/intermediate-2026-11-23.pem', key: 'ca/intermediate-2026-11-23.key' },
  replaceKey: undefined,
  previous: 'ca/intermediate.pem',
  note: 'replaced 2026-11-23T10:00:00Z; remove after 2026-11-24T10:00:00Z',
};

const CONFIG = `# top comment
signing_ca:
  # the local CA
  local:
    backend: local
    cert: ca/intermediate.pem       # issuing, then root
    key: ca/intermediate.key        # mode 0600
  other:
    backend: local
    cert: ca/other.pem
    key: ca/other.key
registration_authority: {}
`;

describe('editSigningCa', () => {
  it('replaces cert and key in place and adds previous_certs after the entry, touching nothing else', () => {
    expect(editSigningCa(CONFIG, 'local', change)).toBe(`# top comment
signing_ca:
  # the local CA
  local:
    backend: local
    cert: ca/intermediate-2026-11-23.pem       # issuing, then root
    key: ca/intermediate-2026-11-23.key        # mode 0600
    previous_certs:
      - ca/intermediate.pem # replaced 2026-11-23T10:00:00Z; remove after 2026-11-24T10:00:00Z
  other:
    backend: local
    cert: ca/other.pem
    key: ca/other.key
registration_authority: {}
`);
  });

  it('puts the replaced chain first in an existing block list, keeping the entries and their comments', () => {
    const config = CONFIG.replace('    key: ca/intermediate.key        # mode 0600\n', '    key: ca/intermediate.key        # mode 0600\n    previous_certs:\n      - ca/older.pem   # remove after June\n');
    const edited = editSigningCa(config, 'local', change);
    expect(edited).toContain('    previous_certs:\n      - ca/intermediate.pem # replaced 2026-11-23T10:00:00Z; remove after 2026-11-24T10:00:00Z\n      - ca/older.pem   # remove after June\n  other:\n');
  });

  it('extends a flow list', () => {
    const config = CONFIG.replace('    key: ca/intermediate.key        # mode 0600\n', '    key: ca/intermediate.key        # mode 0600\n    previous_certs: [ca/older.pem]\n');
    expect(editSigningCa(config, 'local', change)).toContain('    previous_certs: [ca/intermediate.pem, ca/older.pem]\n');
  });

  it('turns a pkcs11 key_id into the new key_label', () => {
    const config = `signing_ca:
  hsm:
    backend: pkcs11
    module: /usr/lib/softhsm/libsofthsm2.so
    token_label: mayfly
    key_id: "0a0b"   # the old key
    pin_env: PIN
    cert: ca/hsm.pem
`;
    const edited = editSigningCa(config, 'hsm', { ...change, set: { cert: 'ca/hsm-2026-11-23.pem', key_label: 'issuing-ca-2026-11-23' }, replaceKey: { from: 'key_id', to: 'key_label' } });
    expect(edited).toBe(`signing_ca:
  hsm:
    backend: pkcs11
    module: /usr/lib/softhsm/libsofthsm2.so
    token_label: mayfly
    key_label: issuing-ca-2026-11-23   # the old key
    pin_env: PIN
    cert: ca/hsm-2026-11-23.pem
    previous_certs:
      - ca/intermediate.pem # replaced 2026-11-23T10:00:00Z; remove after 2026-11-24T10:00:00Z
`);
  });

  it('quotes what YAML needs quoted', () => {
    const edited = editSigningCa(CONFIG, 'local', { ...change, set: { cert: 'ca/new #1.pem', key: 'ca/new: 1.key' } });
    expect(edited).toContain('    cert: "ca/new #1.pem"       # issuing, then root\n    key: "ca/new: 1.key"        # mode 0600\n');
  });

  it('the result is a valid config when the original was', () => {
    const valid = `authentication:
  deployers: { backend: static, user: d, secret_env: SECRET }
${CONFIG.replace('registration_authority: {}\n', '')}registration_authority:
  default: { authentication: deployers, signing_ca: local, valid_hours: 1 }
`;
    expect(parseConfig('/etc/mayfly/mayfly.yaml', editSigningCa(valid, 'local', change)).document.signing_ca.local.previous_certs).toEqual(['ca/intermediate.pem']);
  });

  it('refuses an entry it cannot edit in place, pointing at --no-edit-config', () => {
    const flow = 'signing_ca:\n  local: { backend: local, cert: ca/intermediate.pem, key: ca/intermediate.key }\n';
    expect(() => editSigningCa(flow, 'local', change)).toThrow('signing_ca.local is not a block mapping that can be edited in place; edit signing_ca.local by hand, or run again with --no-edit-config to see the change');
    const emptyList = CONFIG.replace('    key: ca/intermediate.key        # mode 0600\n', '    key: ca/intermediate.key        # mode 0600\n    previous_certs:\n');
    expect(() => editSigningCa(emptyList, 'local', change)).toThrow('signing_ca.local.previous_certs is empty but present');
  });
});

describe('withCommonName', () => {
  const hex = (name: Uint8Array) => Buffer.from(name).toString('hex');

  it('replaces the CN value and keeps every other attribute byte for byte, in order', () => {
    const after = withCommonName(encodeName('/C=DE/O=Acme/CN=Acme Issuing CA 2025-01-01/OU=PKI'), 'Acme Issuing CA 2026-11-23');
    expect(hex(after)).toBe(hex(encodeName('/C=DE/O=Acme/CN=Acme Issuing CA 2026-11-23/OU=PKI')));
    // OpenSSL reads the same: the country still a PrintableString, the CN a UTF8String.
    const printed = openssl(['asn1parse', '-inform', 'DER'], Buffer.from(after)).toString();
    expect(printed).toMatch(/PRINTABLESTRING\s+:DE/);
    expect(printed).toMatch(/UTF8STRING\s+:Acme Issuing CA 2026-11-23/);
  });

  it('adds a CN to a Name without one', () => {
    expect(hex(withCommonName(encodeName('/O=Acme'), 'Acme CA'))).toBe(hex(encodeName('/O=Acme/CN=Acme CA')));
  });
});
