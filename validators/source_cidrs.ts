import { z } from 'zod';
import { inNetworks, parseIpAddress } from '../src/policy/names';
import { networks } from '../src/policy/options';
import { defineValidator } from '../src/policy/validator';

/** The client's address (as the server's trusted-proxy setting established it) must lie in a listed network. */
export default defineValidator({
  name: 'source_cidrs',
  options: z.strictObject({ cidrs: networks }),
  check({ sourceAddress }, options) {
    const address = parseIpAddress(sourceAddress);
    if (!address) return [`the client address ${JSON.stringify(sourceAddress)} is not an IP address`];
    return inNetworks(address, options.cidrs) ? [] : [`the client address ${address} is outside the allowed networks [${options.cidrs.join(', ')}]`];
  },
});
