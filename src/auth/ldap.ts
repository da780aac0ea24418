import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, FilterParser, InvalidCredentialsError, type Entry } from 'ldapts';
import type { Requester } from '../types';
import type { Authenticator, Credentials } from './authenticator';

/** The options of one `backend: ldap` entry, in code form (the YAML schema maps onto these). */
export interface LdapAuthenticatorOptions {
  /** `ldap://host[:port]` or `ldaps://host[:port]`. */
  readonly url: string;
  /** The DN to bind as; `{user}` becomes the user name, escaped per RFC 4514. */
  readonly bindDnTemplate: string;
  /** Where the group search starts (subtree scope). */
  readonly groupSearchBase: string;
  /** RFC 4515 filter; `{dn}` becomes the bind DN and `{user}` the user name, both filter-escaped. */
  readonly groupFilter?: string;
  /** The attribute of a group entry that names the group. */
  readonly groupAttribute?: string;
  /** The most one authentication may take, connection to last search result; then it fails. */
  readonly timeoutMs?: number;
  /** PEM file of the CA(s) that issued the server's certificate, for ldaps:// or StartTLS. */
  readonly tlsCaFile?: string;
  /** Upgrade an ldap:// connection with StartTLS (RFC 4511 4.14) before the password is sent. */
  readonly startTls?: boolean;
  /** Told why an authentication failed when the cause is not the credentials (server down, timeout, bad search base). */
  readonly logError?: (error: unknown) => void;
}

export const DEFAULT_GROUP_FILTER = '(&(objectClass=groupOfNames)(member={dn}))';
export const DEFAULT_GROUP_ATTRIBUTE = 'cn';
export const DEFAULT_TIMEOUT_MS = 5000;

/** An LDAP entry's option is wrong: `option` is its YAML name, `reason` what is wrong with it. */
export class LdapConfigError extends Error {
  override readonly name = 'LdapConfigError';

  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`${option}: ${reason}`);
  }
}

class LdapTimeoutError extends Error {
  override readonly name = 'LdapTimeoutError';
}

// Control characters (C0, DEL, C1) and lone surrogates have no place in a user name; refusing
// them outright beats trusting every directory to treat an escaped NUL or newline the same way.
const UNACCEPTABLE_USER = /[\p{Cc}\p{Cs}]/u;
// Leading or trailing white space is insignificant to LDAP matching (RFC 4518 2.6.1), so
// " alice" would bind as alice while Mayfly recorded a different name; refuse it, as static does.
const PADDED = /^\s|\s$/u;

/** RFC 4514 2.4: escapes a string for use as an attribute value in a DN. */
export function escapeDnValue(value: string): string {
  const characters = Array.from(value);
  return characters
    .map((character, index) => {
      if (character === '\0') return '\\00';
      // '=' needs no escape by 2.4 but may have one (3: `special`); escaping it reads less ambiguously.
      if ('"+,;<>\\='.includes(character)) return `\\${character}`;
      if ((index === 0 && (character === ' ' || character === '#')) || (index === characters.length - 1 && character === ' ')) return `\\${character}`;
      if (/\p{Cc}/u.test(character)) return hexEscape(character);
      return character;
    })
    .join('');
}

/** RFC 4515 3: escapes a string for use as an assertion value in a filter. */
export function escapeFilterValue(value: string): string {
  // Only the five characters 3 requires, as hex pairs: other bytes pass as UTF-8, which ldapts's
  // filter parser keeps intact (it decodes each hex pair as one Latin-1 character, so escaping
  // multi-byte characters would corrupt them).
  return value.replace(/[*()\\\0]/g, hexEscape);
}

const hexEscape = (character: string): string =>
  Array.from(Buffer.from(character, 'utf8'), (byte) => `\\${byte.toString(16).padStart(2, '0')}`).join('');

const fillTemplate = (template: string, values: { readonly user: string; readonly dn?: string }): string =>
  // One pass, so a value that contains "{dn}" is never expanded in turn.
  template.replace(/\{(user|dn)\}/g, (_, key: 'user' | 'dn') => values[key] ?? '');

function parenthesesBalance(filter: string): boolean {
  let depth = 0;
  for (const character of filter) {
    if (character === '(') depth += 1;
    else if (character === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

const placeholders = (template: string): string[] => Array.from(template.matchAll(/\{([^{}]*)\}/g), (match) => match[1]);

/**
 * Anchor's `ldap` backend: a simple bind as the user (RFC 4513 5.1.3), then a search, as that
 * user, for the groups that name it. Anchor let an empty password through, and the server took it
 * as an unauthenticated bind (RFC 4513 5.1.2) that "succeeds"; here an empty secret never binds.
 * Every failure, whatever its cause, is a refusal: authenticate() never throws.
 */
export class LdapAuthenticator implements Authenticator {
  private readonly url: string;
  private readonly host: string;
  private readonly bindDnTemplate: string;
  private readonly groupSearchBase: string;
  private readonly groupFilter: string;
  private readonly groupAttribute: string;
  private readonly timeoutMs: number;
  private readonly startTls: boolean;
  private readonly tls: ConnectionOptions;
  private readonly logError: (error: unknown) => void;

  constructor(
    readonly name: string,
    options: LdapAuthenticatorOptions,
  ) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new LdapConfigError('url', `'${options.url}' is not a URL; expected ldap://host:port or ldaps://host:port`);
    }
    if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') throw new LdapConfigError('url', `expected ldap:// or ldaps://, not ${url.protocol}//`);
    if (!url.hostname) throw new LdapConfigError('url', `'${options.url}' names no host`);
    if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash || url.username || url.password) {
      throw new LdapConfigError('url', `give only the scheme, host and port, not '${options.url}'`);
    }
    this.url = options.url;
    this.host = url.hostname.replace(/^\[(.*)\]$/, '$1');

    this.startTls = options.startTls ?? false;
    if (this.startTls && url.protocol === 'ldaps:') throw new LdapConfigError('start_tls', 'an ldaps:// connection is already TLS; use ldap:// with StartTLS, or ldaps:// without');
    if (options.tlsCaFile !== undefined && url.protocol !== 'ldaps:' && !this.startTls) throw new LdapConfigError('tls_ca_file', 'only an ldaps:// url or start_tls uses TLS');
    let ca: Buffer | undefined;
    if (options.tlsCaFile !== undefined) {
      try {
        ca = readFileSync(options.tlsCaFile);
      } catch (error) {
        throw new LdapConfigError('tls_ca_file', `cannot read ${options.tlsCaFile}: ${(error as Error).message}`);
      }
    }
    this.tls = ca ? { ca } : {};

    const unknownInDn = placeholders(options.bindDnTemplate).filter((key) => key !== 'user');
    if (!options.bindDnTemplate.includes('{user}')) throw new LdapConfigError('bind_dn_template', 'expected {user} where the user name goes, e.g. uid={user},ou=people,dc=example,dc=com');
    if (unknownInDn.length > 0) throw new LdapConfigError('bind_dn_template', `unknown placeholder {${unknownInDn[0]}}; only {user} is replaced`);
    this.bindDnTemplate = options.bindDnTemplate;

    if (!options.groupSearchBase) throw new LdapConfigError('group_search_base', 'expected the DN under which groups are searched');
    this.groupSearchBase = options.groupSearchBase;

    this.groupFilter = options.groupFilter ?? DEFAULT_GROUP_FILTER;
    const unknownInFilter = placeholders(this.groupFilter).filter((key) => key !== 'user' && key !== 'dn');
    if (unknownInFilter.length > 0) throw new LdapConfigError('group_filter', `unknown placeholder {${unknownInFilter[0]}}; only {dn} and {user} are replaced`);
    // A filter that names neither would give every user the same groups.
    if (!/\{(user|dn)\}/.test(this.groupFilter)) throw new LdapConfigError('group_filter', 'expected {dn} or {user}, e.g. (&(objectClass=groupOfNames)(member={dn}))');
    // ldapts's parser forgives a missing closing parenthesis; the config should not.
    if (!parenthesesBalance(this.groupFilter)) throw new LdapConfigError('group_filter', 'not an LDAP filter: unbalanced parentheses');
    try {
      FilterParser.parseString(fillTemplate(this.groupFilter, { user: 'user', dn: 'uid=user,dc=example' }));
    } catch (error) {
      throw new LdapConfigError('group_filter', `not an LDAP filter: ${(error as Error).message}`);
    }

    this.groupAttribute = options.groupAttribute ?? DEFAULT_GROUP_ATTRIBUTE;
    if (!/^([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)+)$/.test(this.groupAttribute)) throw new LdapConfigError('group_attribute', `'${this.groupAttribute}' is not an attribute name (RFC 4512 2.5)`);

    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) throw new LdapConfigError('timeout', `expected a positive number of milliseconds, not ${this.timeoutMs}`);
    this.logError = options.logError ?? (() => {});
  }

  /** The DN a user binds as; undefined for a name that is refused before any connection. */
  private bindDn(user: string): string | undefined {
    if (user === '' || UNACCEPTABLE_USER.test(user) || PADDED.test(user)) return undefined;
    return fillTemplate(this.bindDnTemplate, { user: escapeDnValue(user) });
  }

  async authenticate(credentials: Credentials): Promise<Requester | undefined> {
    const user = credentials.user ?? '';
    const secret = credentials.secret ?? '';
    const dn = this.bindDn(user);
    // RFC 4513 5.1.2: a DN with an empty password is an unauthenticated bind, which servers may
    // report as success. It must never reach the server.
    if (dn === undefined || secret === '') return undefined;

    // ldapts connects with TLS straight away whenever it is given TLS options, so for StartTLS
    // they go to startTLS() only.
    const client = new Client({
      url: this.url,
      timeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      ...(this.startTls ? {} : { tlsOptions: this.tls }),
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LdapTimeoutError(`the LDAP server ${this.url} did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([this.bindAndFindGroups(client, dn, user, secret), deadline]);
    } catch (error) {
      if (!(error instanceof InvalidCredentialsError)) this.logError(error);
      return undefined;
    } finally {
      clearTimeout(timer);
      // unbind() sends the UnbindRequest if connected, then destroys the socket either way.
      await client.unbind().catch(() => {});
    }
  }

  private async bindAndFindGroups(client: Client, dn: string, given: string, secret: string): Promise<Requester> {
    if (this.startTls) await client.startTLS({ ...this.tls, host: this.host });
    await client.bind(dn, secret);
    const user = await this.directoryName(client, dn, given);
    const { searchEntries } = await client.search(this.groupSearchBase, {
      scope: 'sub',
      filter: fillTemplate(this.groupFilter, { user: escapeFilterValue(user), dn: escapeFilterValue(dn) }),
      attributes: [this.groupAttribute],
    });
    const groups = new Set<string>(searchEntries.flatMap((entry) => attributeValues(entry, this.groupAttribute)));
    return { user, groups: [...groups].sort(), authentication: this.name };
  }

  /**
   * The user name as the directory spells it. LDAP matches names without regard to case, so ALICE
   * binds as alice; recording and rate-limiting the name as typed would make one user many. When the
   * template's RDN is `attr={user}`, the bound entry's own value of attr is the name; when there is
   * no such attribute to read (or the entry may not be read), the name as given.
   */
  private async directoryName(client: Client, dn: string, given: string): Promise<string> {
    const attribute = /(?:^|,)\s*([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)\s*=\s*\{user\}\s*(?:,|$)/.exec(this.bindDnTemplate)?.[1];
    if (attribute === undefined) return given;
    const { searchEntries } = await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: [attribute] }).catch(() => ({ searchEntries: [] }));
    // Close to LDAP's caseIgnoreMatch (RFC 4518: NFKC, then case folded).
    const fold = (name: string) => name.normalize('NFKC').toLowerCase();
    return searchEntries.flatMap((entry) => attributeValues(entry, attribute)).find((value) => fold(value) === fold(given)) ?? given;
  }
}

/** An entry's values of one attribute, as text; the server spells the name as its schema does, whatever case the config used. */
function attributeValues(entry: Entry, attribute: string): string[] {
  const wanted = attribute.toLowerCase();
  const key = Object.keys(entry).find((name) => name.toLowerCase() === wanted);
  const values = key === undefined ? [] : entry[key];
  return (Array.isArray(values) ? values : [values]).map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value))).filter((text) => text !== '');
}
