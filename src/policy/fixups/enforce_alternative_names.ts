import { z } from 'zod';
import type { Fixup } from '../fixup';

/**
 * Anchor's enforce_alternative_names_present. RFC 6125 clients ignore the CN when a SAN is present,
 * so Mayfly now always issues the CN as a SAN too (policy/names.ts issuanceNames); this fixup is
 * kept so that configs naming it still load, and changes nothing.
 */
const enforceAlternativeNames: Fixup<Record<string, never>> = {
  name: 'enforce_alternative_names',
  options: z.strictObject({}),
  apply: ({ names }) => names,
};

export default enforceAlternativeNames;
