import { promises as dns } from 'node:dns';
import type { AcmeProfile } from '../../ra/registration_authority';
import { AcmeProblem } from '../problems';

type Validation = AcmeProfile['validation'];

/** The RA's DNS: its configured server (tests use a local one), else the system's. */
function resolverOf(validation: Validation): dns.Resolver {
  const resolver = new dns.Resolver({ timeout: validation.timeoutMs, tries: 2 });
  if (validation.resolver) resolver.setServers([validation.resolver]);
  return resolver;
}

const NO_ANSWER = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'ENONAME']);

/** Every A and AAAA address of a name; `dns` problem when there are none or the lookup fails. */
export async function resolveAddresses(name: string, validation: Validation): Promise<string[]> {
  const resolver = resolverOf(validation);
  const answers = await Promise.all([resolver.resolve4(name), resolver.resolve6(name)].map((lookup) => lookup.catch((error: NodeJS.ErrnoException) => (NO_ANSWER.has(error.code ?? '') ? [] : Promise.reject(error))))).catch(
    (error: NodeJS.ErrnoException) => {
      throw new AcmeProblem('dns', `looking up ${name} failed (${error.code ?? 'error'})`);
    },
  );
  const addresses = answers.flat();
  if (addresses.length === 0) throw new AcmeProblem('dns', `${name} has no A or AAAA record`);
  return addresses;
}

/** The TXT records of a name, each joined from its strings; none is an empty list. */
export async function resolveTxt(name: string, validation: Validation): Promise<string[]> {
  try {
    return (await resolverOf(validation).resolveTxt(name)).map((parts) => parts.join(''));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (NO_ANSWER.has(code)) return [];
    throw new AcmeProblem('dns', `looking up TXT ${name} failed (${code || 'error'})`);
  }
}
