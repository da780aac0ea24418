// What the key-encoding fuzz runs against: the corpus keys, and a config with a second RA, `open`,
// whose validators leave out public_key, so that every key the csr stage reads reaches issuance.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const CORPUS_DIR = join(__dirname, 'corpus');
const KEYS = ['good-p256', 'good-p384', 'bad-p521', 'bad-secp256k1', 'good-rsa2048', 'good-rsa3072', 'bad-rsa1024', 'bad-rsa2048-e3', 'bad-rsapss', 'good-ed25519', 'bad-ed448'];

/** PKCS#8 PEMs of the corpus keys the mutants are made from, by name. */
export const corpusKeyPems = (): Record<string, string> => Object.fromEntries(KEYS.map((name) => [name, readFileSync(join(CORPUS_DIR, `${name}.key`), 'utf8')]));

/** The registration authorities a case goes to: the default policy, and one without public_key. */
export const REGISTRATION_AUTHORITIES = ['default', 'open'] as const;

/** Adds the `open` RA (the default's names, any key the csr stage reads) to an init'd mayfly.yaml. */
export function withOpenRegistrationAuthority(yaml: string): string {
  const open = [
    '  open:',
    '    authentication: deployers',
    '    signing_ca: local',
    '    valid_hours: 1',
    '    validators:',
    '      - common_name:',
    '          allowed_domains: [".mayfly.test"]',
    '      - alternative_names:',
    '          allowed_domains: [".mayfly.test"]',
    '',
  ].join('\n');
  const edited = yaml.replace(/^registration_authority:\n/m, `registration_authority:\n${open}`);
  if (edited === yaml) throw new Error('mayfly.yaml has no registration_authority section');
  return edited;
}
