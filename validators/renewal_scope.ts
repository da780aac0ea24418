import { z } from 'zod';
import { classifyName, requestIdentifiers, type Identifier } from '../src/policy/names';
import { defineValidator } from '../src/policy/validator';

const canonical = (identifier: Identifier): string =>
  identifier.kind === 'dns' ? identifier.name : identifier.kind === 'ip' ? identifier.address.toString() : identifier.raw;

/**
 * Always on: a requester whose identity is bound to names — a client certificate renewing itself —
 * may ask only for those names. Other requesters are not bound, and pass.
 */
export default defineValidator({
  name: 'renewal_scope',
  options: z.strictObject({}),
  check({ csr, names, requester }) {
    if (!requester.boundNames) return [];
    const allowed = new Set(requester.boundNames.map((name) => canonical(classifyName(name))));
    return requestIdentifiers(csr.commonNames, names)
      .filter(({ identifier }) => !allowed.has(canonical(identifier)))
      .map(({ source, identifier }) => `${source} '${identifier.raw}' is not in the presented certificate, which may renew only [${requester.boundNames!.join(', ')}]`);
  },
});
