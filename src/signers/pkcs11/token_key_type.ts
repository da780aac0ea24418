// The key types `mayfly pkcs11 init-ca` makes in a token: its own file, so the command's --help
// lists them without loading pkcs11js.
export const TOKEN_KEY_TYPES = ['p256', 'p384', 'rsa2048', 'rsa3072'] as const;
export type TokenKeyType = (typeof TOKEN_KEY_TYPES)[number];
