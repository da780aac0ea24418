import { z } from 'zod';
import { defineValidator } from '../src/policy/validator';

const F4 = 65537n;

/** The requester's key type and strength: RSA ≥ a minimum size with e = 65537, listed EC curves, Ed25519. */
export default defineValidator({
  name: 'public_key',
  options: z.strictObject({
    allowed_keys: z.strictObject({
      RSA: z.number().int().min(2048, 'RSA below 2048 bits is not safe to allow').optional(),
      EC: z.array(z.enum(['P-256', 'P-384', 'P-521'])).optional(),
      Ed25519: z.boolean().optional(),
    }),
  }),
  check({ csr }, { allowed_keys: allowed }) {
    const key = csr.publicKey;
    const listed = Object.entries(allowed).filter(([, value]) => value !== undefined && value !== false).map(([type]) => type);
    switch (key.type) {
      case 'RSA':
        if (allowed.RSA === undefined) break;
        return [
          ...((key.bits ?? 0) < allowed.RSA ? [`RSA key of ${key.bits} bits is below the minimum of ${allowed.RSA}`] : []),
          ...(key.exponent !== F4 ? [`RSA public exponent ${key.exponent} is not 65537`] : []),
        ];
      case 'EC':
        if (allowed.EC === undefined) break;
        return allowed.EC.includes(key.curve as 'P-256') ? [] : [`EC curve ${key.curve} is not allowed (allowed: ${allowed.EC.join(', ') || 'none'})`];
      case 'Ed25519':
        if (allowed.Ed25519 !== true) break;
        return [];
    }
    return [`${key.type} keys are not allowed (allowed: ${listed.join(', ') || 'none'})`];
  },
});
