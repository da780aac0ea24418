import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFile, readFile, rename } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { errorMessage } from '../error_message';
import type { Requester } from '../types';
import { WatchedFile } from '../watched_file';
import type { Authenticator, Credentials } from './authenticator';

// Bearer tokens: "mfy_<id>_<secret>". The tokens file keeps, per id, only the SHA-256 of the secret
// (the secret has 256 bits of entropy, so a fast hash is enough), the groups and the expiry.

const TOKEN = /^mfy_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

const tokenEntry = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{16}$/),
  name: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  groups: z.array(z.string().min(1)).default([]),
  created: z.string(),
  // RFC 3339 with its offset: another form (31/12/2020) would never be compared as a time, so never expire.
  expires: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time with its offset, such as 2026-12-31T00:00:00Z' }).nullable().default(null),
});
const tokensFile = z.strictObject({ tokens: z.array(tokenEntry).default([]) });
export type TokenEntry = z.infer<typeof tokenEntry>;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The entries of a tokens file, or an error naming each wrong field (tokens.0.expires: ...). */
function readTokens(text: string): TokenEntry[] {
  const parsed = tokensFile.safeParse(parse(text) ?? {});
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  return parsed.data.tokens;
}

const parseTokens = (text: string): ReadonlyMap<string, TokenEntry> => new Map(readTokens(text).map((entry) => [entry.id, entry]));

/** The `token` backend: bearer tokens from a file that is read again when it changes. */
export class TokenAuthenticator implements Authenticator {
  private readonly tokens: WatchedFile<ReadonlyMap<string, TokenEntry>>;

  constructor(
    readonly name: string,
    file: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    // A deleted tokens file revokes every token, rather than keeping the last ones read valid.
    this.tokens = new WatchedFile(file, parseTokens, () => new Map());
  }

  /** A hash and a comparison (a token), or a chain already checked in the TLS handshake: never costly. */
  costly(): boolean {
    return false;
  }

  async authenticate(credentials: Credentials): Promise<Requester | undefined> {
    const match = credentials.bearer ? TOKEN.exec(credentials.bearer) : null;
    // Unknown, malformed and wrong tokens all cost one hash and one comparison.
    const entry = match ? this.tokens.value.get(match[1]) : undefined;
    const presented = sha256(match?.[2] ?? '');
    const stored = entry ? Buffer.from(entry.sha256, 'hex') : Buffer.alloc(32);
    const matches = timingSafeEqual(presented, stored) && entry !== undefined;
    if (!matches || (entry.expires !== null && Date.parse(entry.expires) <= this.now().getTime())) return undefined;
    return { user: entry.name, groups: entry.groups, authentication: this.name };
  }

  close(): void {
    this.tokens.close();
  }
}

/** Adds a token to the file (created 0600 if missing) and returns it: the only time it is shown. */
export async function createToken(file: string, options: { name?: string; groups: readonly string[]; ttlMs?: number; now?: Date }): Promise<{ token: string; entry: TokenEntry }> {
  const now = options.now ?? new Date();
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  let existing: TokenEntry[];
  try {
    existing = readTokens(text);
  } catch (error) {
    throw new Error(`${file} is not a valid tokens file (${errorMessage(error)}); fix it before adding a token`);
  }
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const entry: TokenEntry = {
    id,
    name: options.name ?? `token-${id}`,
    sha256: sha256(secret).toString('hex'),
    groups: [...options.groups],
    created: now.toISOString(),
    expires: options.ttlMs !== undefined ? new Date(now.getTime() + options.ttlMs).toISOString() : null,
  };
  // Write beside, then rename: a server watching the file never reads half of it.
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `# Mayfly bearer tokens: only hashes. Create with \`mayfly token create\`.\n${stringify({ tokens: [...existing, entry] })}`, { mode: 0o600 });
  await rename(temporary, file);
  return { token: `mfy_${id}_${secret}`, entry };
}
