import { z } from 'zod';
import { isNetwork } from './names';

// Option schemas several validators share, so that the same option means the same thing everywhere.

export const allowedDomains = z.array(z.string().min(1)).default([]);
export const networks = z.array(z.string().refine(isNetwork, 'not an IP address or network in CIDR form')).default([]);
export const allowWildcard = z.boolean().default(false);
