// The key types a CA key can have: its own file, so `mayfly init --help` and `ca rotate --help` list
// them without loading the CA code.
export const CA_KEY_TYPES = ['p256', 'p384', 'rsa2048', 'rsa3072', 'rsa4096', 'ed25519'] as const;
export type CaKeyType = (typeof CA_KEY_TYPES)[number];
