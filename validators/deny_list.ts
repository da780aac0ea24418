import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DenyList } from '../src/policy/deny_list';
import { requestIdentifiers } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

/** The emergency brake of passive revocation: a listed key or name is never issued again. */
export default defineValidator({
  name: 'deny_list',
  options: z.strictObject({ file: z.string().min(1), list: z.custom<DenyList>((value) => value instanceof DenyList).optional() }),
  prepare(options, { configDir }) {
    const file = resolve(configDir, options.file);
    try {
      return { ...options, list: new DenyList(file) };
    } catch {
      throw new Error(`the deny list ${file} cannot be read`);
    }
  },
  release: (options) => options.list?.close(),
  check({ csr, names }, options) {
    const list = options.list!;
    const reasons: string[] = [];
    // The canonical SPKI the csr stage made: the key the certificate and the ledger name, in any form sent.
    const fingerprint = createHash('sha256').update(csr.publicKey.spki).digest('hex');
    if (list.hasFingerprint(fingerprint)) reasons.push(`the public key (SHA-256 ${fingerprint}) is on the deny list`);
    for (const { source, identifier } of requestIdentifiers(csr.commonNames, names)) {
      // Fail closed: a name that cannot be read cannot be shown to be off the list.
      if (identifier.kind === 'invalid') reasons.push(`${source}: ${identifier.problem}`);
      else if (list.covers(identifier)) reasons.push(`${source} '${identifier.raw}' is on the deny list`);
    }
    return reasons;
  },
});

