import { z } from 'zod';
import type { Fixup } from '../fixup';
import { classifyName, type Identifier } from '../names';

/** The form two names are compared in: a normalised DNS name, or an address in canonical text. */
const canonical = (identifier: Identifier): string =>
  identifier.kind === 'dns' ? identifier.name : identifier.kind === 'ip' ? identifier.address.toString() : identifier.raw;

/**
 * Anchor's enforce_alternative_names_present: RFC 6125 clients ignore the CN when a SAN is present,
 * so each CN is copied into the SAN (as a DNS name or an IP) unless it is there already.
 */
const enforceAlternativeNames: Fixup<Record<string, never>> = {
  name: 'enforce_alternative_names',
  options: z.strictObject({}),
  apply({ csr, names }) {
    const present = new Set([...names.dnsNames, ...names.ipAddresses].map((name) => canonical(classifyName(name))));
    const dnsNames = [...names.dnsNames];
    const ipAddresses = [...names.ipAddresses];
    for (const commonName of csr.commonNames) {
      const identifier = classifyName(commonName);
      const key = canonical(identifier);
      if (present.has(key) || identifier.kind === 'invalid') continue;
      present.add(key);
      // Copied in the normalised form (lower case, no trailing dot), as IPs are in canonical form.
      if (identifier.kind === 'ip') ipAddresses.push(key);
      else dnsNames.push(key);
    }
    return { dnsNames, ipAddresses };
  },
};

export default enforceAlternativeNames;
