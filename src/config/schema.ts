import { z } from 'zod';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS } from '../x509/oids';
import { isValidOid } from '../der';
import { isNetwork } from '../policy/names';
import { authenticationBackends } from './authentication';
import { schemasOf } from './backend';
import { duration, name, path } from './schema_fields';
import { signingCaBackends } from './signing_ca';
import { ISSUABLE_ATTRIBUTES } from '../../validators/subject_attributes';

// The YAML shape of mayfly.yaml. It is a contract other tools rely on: change it only by adding.

const listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:5016')
  .refine((text) => Number(text.slice(text.lastIndexOf(':') + 1)) <= 65535, 'the port must be at most 65535');

/** One item of an RA's validator list: `{name: options}`; the options are checked by the validator itself. */
const validatorItem = z
  .record(z.string(), z.unknown())
  .refine((item) => Object.keys(item).length === 1, 'each validator item is a map with exactly one key, the validator name');

/**
 * An RA's ACME profile (RFC 8555), served at /acme/<ra>/directory. Validation reaches out to the
 * identifiers' addresses, so where it may connect is bounded (SSRF): link-local and cloud metadata
 * addresses never, loopback only when allowed (tests), and any further ranges listed here.
 */
const acme = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** open: any ACME account, challenges the only proof; eab: accounts bound to this RA's authentication entry. */
    registration: z.enum(['open', 'eab']).default('open'),
    /** How long a new order and its authorizations stay valid. */
    order_lifetime: duration.default('1h'),
    validation: z
      .strictObject({
        http_port: z.number().int().min(1).max(65535).default(80),
        tls_alpn_port: z.number().int().min(1).max(65535).default(443),
        /** HOST:PORT of the DNS server for dns-01 and for the identifiers' addresses; the system resolver when absent. */
        resolver: listen.optional(),
        timeout: duration.default('10s'),
        allow_loopback: z.boolean().default(false),
        denied_ranges: z.array(z.string().refine(isNetwork, 'not an IP address or network in CIDR form')).default([]),
      })
      .default({ http_port: 80, tls_alpn_port: 443, timeout: '10s', allow_loopback: false, denied_ranges: [] }),
  });

const registrationAuthority = z
  .strictObject({
    acme: acme.optional(),
    authentication: name,
    signing_ca: name,
    valid_hours: z.number().positive().optional(),
    validity: duration.optional(),
    backdate_minutes: z.number().min(0).max(24 * 60).default(5),
    // RFC 5280 4.2.1.3: at least one bit; keyCertSign and cRLSign belong to CAs, and Mayfly issues leaves.
    key_usage: z
      .array(z.enum(KEY_USAGE_BITS).refine((bit) => bit !== 'keyCertSign' && bit !== 'cRLSign', 'keyCertSign and cRLSign are for CA certificates; Mayfly issues leaf certificates'))
      .min(1, 'give at least one key usage, or leave key_usage out for the default')
      .optional(),
    ext_key_usage: z.array(z.union([z.enum(Object.keys(EXT_KEY_USAGE_OIDS) as [string, ...string[]]), z.string().refine(isValidOid, 'expected a key purpose name or a valid dotted OID')])).default(['serverAuth', 'clientAuth']),
    validators: z.array(validatorItem).default([]),
    fixups: z.array(validatorItem).default([]),
    /**
     * Subject attributes issued beside the CN, e.g. [O, OU]; all others a CSR sends are left out
     * (emailAddress always). Each needs a `subject_attributes` validator listing its allowed values.
     */
    subject_attributes: z.array(z.enum(ISSUABLE_ATTRIBUTES)).default([]),
    /** dNSName labels may hold underscores: DNS allows them (RFC 2181 11), RFC 1123 host names do not. */
    allow_underscores: z.boolean().default(false),
  })
  .refine((ra) => (ra.valid_hours === undefined) !== (ra.validity === undefined), { message: 'give exactly one of valid_hours and validity' })
  .superRefine((ra, context) => {
    // Nothing beyond the CN reaches a subject unless a validator decides its values: a named type
    // with no allowed values would be issued unchecked, a listed type not named would never be issued.
    const validatorIndex = ra.validators.findIndex((item) => 'subject_attributes' in item);
    const options = ra.validators[validatorIndex]?.subject_attributes;
    const listed = typeof options === 'object' && options !== null ? Object.keys(options) : [];
    ra.subject_attributes.forEach((type, index) => {
      if (!listed.includes(type)) {
        context.addIssue({ code: 'custom', path: ['subject_attributes', index], message: `${type} is issued only with its allowed values: add a subject_attributes validator, e.g. - subject_attributes: { ${type}: [...] }` });
      }
    });
    for (const type of listed) {
      if (!(ra.subject_attributes as readonly string[]).includes(type)) {
        context.addIssue({ code: 'custom', path: ['validators', validatorIndex, 'subject_attributes', type], message: `${type} is not issued: name it in the RA's subject_attributes, or leave it out here` });
      }
    }
  });

const limits = z.strictObject({
  /** Largest request body, bytes. */
  body_bytes: z.number().int().min(1024).max(1024 * 1024).default(64 * 1024),
  /** Sign requests a minute, per authenticated identity and per client address; 0 turns one off. */
  requests_per_minute_per_identity: z.number().int().min(0).default(600),
  requests_per_minute_per_source: z.number().int().min(0).default(1200),
  /**
   * After this many failed authentications of one claimed identity from one address in
   * `auth_failure_window`, that identity waits `auth_backoff` there; an address waits after
   * `auth_failures_per_source_before_backoff`, whatever identities it claims.
   */
  auth_failures_before_backoff: z.number().int().min(1).default(10),
  auth_failures_per_source_before_backoff: z.number().int().min(1).default(100),
  auth_failure_window: duration.default('5m'),
  auth_backoff: duration.default('5m'),
  /** Authenticated signing requests in progress at once; beyond it, fast 503s instead of a growing queue. */
  max_concurrent_signing: z.number().int().min(1).default(256),
  /** Requests from one address not yet authenticated; credential checks (scrypt, LDAP) in progress per address and in all. */
  max_unauthenticated_per_source: z.number().int().min(1).default(32),
  max_credential_checks_per_source: z.number().int().min(1).default(4),
  max_credential_checks: z.number().int().min(1).default(32),
  header_timeout: duration.default('10s'),
  /** The whole body, once the headers are in; past it, 408 and the connection closed. */
  body_timeout: duration.default('10s'),
  request_timeout: duration.default('30s'),
  /** On SIGTERM, how long requests in progress have to finish before their connections are closed. */
  shutdown_grace: duration.default('20s'),
});

const tlsFiles = z.strictObject({ cert: path, key: path });

const server = z.strictObject({
  listen: listen.default('127.0.0.1:5016'),
  /**
   * HTTPS by default: absent, Mayfly issues its own server certificate from `tls_signing_ca` (or the
   * first signing_ca) and renews it before expiry. `{cert, key}` uses yours; `off` serves plain HTTP.
   */
  tls: z.union([z.literal('off'), tlsFiles]).optional(),
  tls_signing_ca: name.optional(),
  /** Extra DNS names and IPs for the server certificate, beside the listen address. */
  names: z.array(z.string().min(1)).default([]),
  /** Plain HTTP on a non-loopback address; only with tls: off, behind a TLS-terminating proxy. */
  allow_plaintext: z.boolean().default(false),
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For is believed; nobody's by default. */
  trusted_proxies: z.array(z.string().refine(isNetwork, 'not an IP address or network in CIDR form')).default([]),
  limits: limits.default(limits.parse({})),
  /**
   * A second, plain-HTTP address for /metrics, /healthz and /readyz (for Prometheus and probes);
   * when set, /metrics is no longer served with the API. Nothing secret is served there.
   */
  metrics_listen: listen.optional(),
  /** JSON log lines at this level and above, on stdout. */
  log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

const audit = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** sqlite: a file beside the config (the default); postgres: one database that replicas share. */
    store: z.enum(['sqlite', 'postgres']).default('sqlite'),
    /** For sqlite: the file. */
    database: path.default('audit.db'),
    /** For postgres: the environment variable holding the connection URL (it may carry a password). */
    url_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    /** Ed25519 key for checkpoints; the public half is <key without .key>.pub. Created when missing. */
    key: path.default('audit.key'),
    checkpoint_every: z.number().int().min(1).default(1000),
    checkpoint_interval: duration.default('1m'),
  })
  .refine((entry) => entry.store !== 'postgres' || entry.url_env !== undefined, { message: 'store: postgres needs url_env, the environment variable that holds the connection URL', path: ['url_env'] })
  .refine((entry) => entry.store === 'postgres' || entry.url_env === undefined, { message: 'url_env is for store: postgres', path: ['url_env'] });

export const configSchema = z.strictObject({
  plugins: z.array(path).default([]),
  audit: audit.default({ enabled: true, store: 'sqlite', database: 'audit.db', key: 'audit.key', checkpoint_every: 1000, checkpoint_interval: '1m' }),
  server: server.default(server.parse({})),
  authentication: z.record(name, z.discriminatedUnion('backend', schemasOf(authenticationBackends))),
  signing_ca: z.record(name, z.discriminatedUnion('backend', schemasOf(signingCaBackends))),
  registration_authority: z.record(name, registrationAuthority),
});

export type ConfigDocument = z.infer<typeof configSchema>;
export type RegistrationAuthorityDocument = z.infer<typeof registrationAuthority>;
export type AcmeDocument = z.infer<typeof acme>;
