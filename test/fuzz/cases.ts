// Case index → fuzz case, deterministically from the run's seed and the corpus. Most cases carry a
// request with valid credentials, so they reach the CSR parser and the policy.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCsr } from './csr_generator';
import { signedCsr, signingKey, type SigningKey } from './csr_builder';
import { lieAt, LENGTH_LIES, mutateBytes, mutateTree, truncationOffsets, type LengthLie } from './mutators';
import { caseRng, type Prng } from './prng';
import {
  ACCEPTS, CARRIERS, carriesFields, credentialChoice, encodeBody, multipart, pem, pemVariant, plainPayload, signRequest, SIGN_PATH, USER, VALID_HOURS, basic,
  type Carrier, type CredentialChoice, type CsrPayload, type FuzzRequest, type HttpRequest, type Part, type SignOptions,
} from './requests';
import { encodeTree, parseTree, spans, type TreeNode } from './tlv';

const DAY_MS = 24 * 3_600_000;

export interface FuzzCase {
  readonly index: number;
  readonly family: string;
  readonly description: string;
  readonly request: FuzzRequest;
  /** A POST to a sign route: a 200 must hold a certificate for one of `carried`. */
  readonly sign: boolean;
  /** The requests a certificate may be issued for; empty when none may. */
  readonly carried: readonly Buffer[];
  /** The longest lifetime an issued certificate may have. */
  readonly maxValidityMs: number;
  /** A request that must succeed (the periodic known-good one). */
  readonly mustIssue?: boolean;
}

export interface CorpusEntry {
  readonly name: string;
  readonly der: Buffer;
  readonly key: SigningKey;
  readonly tree: TreeNode;
  readonly good: boolean;
}

/** One planned mutation of the deterministic sweep over the main corpus requests. */
type SweepItem = { readonly entry: number; readonly op: 'truncate'; readonly offset: number } | { readonly entry: number; readonly op: 'lie'; readonly span: number; readonly lie: LengthLie };

export interface FuzzContext {
  readonly secret: string;
  readonly corpus: readonly CorpusEntry[];
  readonly keys: { readonly good: readonly SigningKey[]; readonly bad: readonly SigningKey[] };
  readonly sweep: readonly SweepItem[];
  /** The request the periodic health check sends. */
  readonly known: CorpusEntry;
}

const CORPUS_DIR = join(__dirname, 'corpus');
/** The sweep's subjects: one request per allowed key type. */
const SWEPT = ['good-p256', 'good-p384', 'good-rsa2048', 'good-ed25519'];

function derOfPem(text: string): Buffer {
  const match = /-----BEGIN [A-Z ]+-----([\s\S]+?)-----END/.exec(text);
  if (!match) throw new Error('not PEM');
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}

/** Loads the openssl corpus and plans the sweep. */
export function loadContext(secret: string): FuzzContext {
  const corpus: CorpusEntry[] = readdirSync(CORPUS_DIR)
    .filter((file) => file.endsWith('.csr'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.csr'.length);
      const der = derOfPem(readFileSync(join(CORPUS_DIR, file), 'utf8'));
      const tree = parseTree(der);
      if (!tree) throw new Error(`corpus ${file} is not DER`);
      return { name, der, key: signingKey(name, readFileSync(join(CORPUS_DIR, `${name}.key`), 'utf8')), tree, good: name.startsWith('good-') };
    });
  const byName = (name: string) => {
    const found = corpus.findIndex((entry) => entry.name === name);
    if (found < 0) throw new Error(`the corpus has no ${name}`);
    return found;
  };
  const keyOf = (name: string) => corpus[byName(name)].key;
  const keys = {
    good: ['good-p256', 'good-p256', 'good-p256', 'good-p384', 'good-rsa2048', 'good-ed25519', 'good-ed25519'].map(keyOf),
    bad: ['bad-rsa1024', 'bad-p521', 'bad-secp256k1', 'bad-rsa2048-e3', 'bad-ed448', 'bad-rsapss'].map(keyOf),
  };
  const sweep: SweepItem[] = [];
  for (const name of SWEPT) {
    const entry = byName(name);
    const der = corpus[entry].der;
    for (const offset of truncationOffsets(der)) sweep.push({ entry, op: 'truncate', offset });
    spans(der).forEach((_, span) => {
      for (const lie of LENGTH_LIES) sweep.push({ entry, op: 'lie', span, lie });
    });
  }
  return { secret, corpus, keys, sweep, known: corpus[byName('good-p256')] };
}

// ---- building cases ----

/** How often (by case index) the known-good request is sent. */
export const HEALTH_EVERY = 500;
/** Every fourth case is the next step of the sweep. */
const SWEEP_EVERY = 4;

type Family = 'generated' | 'generated-tree' | 'generated-bytes' | 'corpus-bytes' | 'corpus-tree' | 'corpus-resigned' | 'corpus' | 'pem' | 'body' | 'header' | 'raw' | 'path';
const FAMILIES: readonly (readonly [number, Family])[] = [
  [36, 'generated'], [8, 'generated-tree'], [5, 'generated-bytes'], [12, 'corpus-bytes'], [5, 'corpus-tree'], [6, 'corpus-resigned'], [5, 'corpus'],
  [6, 'pem'], [8, 'body'], [4, 'header'], [3.5, 'raw'], [1.5, 'path'],
];

/** Case `index` of the run seeded `seed`. */
export function buildCase(context: FuzzContext, seed: number, index: number): FuzzCase {
  const rng = caseRng(seed, index);
  if (index % HEALTH_EVERY === 0) {
    const request = signRequest('form-pem', plainPayload(context.known.der, context.known.name), credentialChoice(rng, context.secret, true, false));
    return { index, family: 'health', description: 'the known-good request', request, sign: true, carried: [context.known.der], maxValidityMs: DAY_MS, mustIssue: true };
  }
  if (index % SWEEP_EVERY === 1 && context.sweep.length > 0) return sweepCase(context, rng, index, context.sweep[Math.floor(index / SWEEP_EVERY) % context.sweep.length]);
  const family = rng.weighted(FAMILIES);
  switch (family) {
    case 'generated':
    case 'generated-tree':
    case 'generated-bytes': {
      const generated = generateCsr(rng, context.keys);
      if (family === 'generated') return csrCase(context, rng, index, family, generated.der, generated.description);
      const infoTree = parseTree(generated.info);
      const mutation = family === 'generated-tree' && infoTree ? mutateTree(rng, infoTree, donorTrees(context, rng)) : mutateBytes(rng, generated.info, donorBytes(context, rng));
      const resigned = signedCsr(rng, generated.key, mutation.bytes);
      return csrCase(context, rng, index, family, resigned.der, `${generated.description}; info mutated: ${mutation.description}; re-signed (${resigned.description})`);
    }
    case 'corpus-bytes': {
      const entry = rng.pick(context.corpus);
      const mutation = mutateBytes(rng, entry.der, donorBytes(context, rng));
      return csrCase(context, rng, index, family, mutation.bytes, `${entry.name}: ${mutation.description}`);
    }
    case 'corpus-tree': {
      const entry = rng.pick(context.corpus);
      const mutation = mutateTree(rng, entry.tree, donorTrees(context, rng));
      return csrCase(context, rng, index, family, mutation.bytes, `${entry.name}: ${mutation.description}`);
    }
    case 'corpus-resigned': {
      const entry = rng.pick(context.corpus);
      const info = entry.tree.children?.[0];
      if (!info) return csrCase(context, rng, index, family, entry.der, entry.name);
      const mutation = rng.chance(0.6) ? mutateTree(rng, info, donorTrees(context, rng)) : mutateBytes(rng, encodeTree(info), donorBytes(context, rng));
      const resigned = signedCsr(rng, entry.key, mutation.bytes);
      return csrCase(context, rng, index, family, resigned.der, `${entry.name}: info mutated: ${mutation.description}; re-signed (${resigned.description})`);
    }
    case 'corpus': {
      const entry = rng.pick(context.corpus);
      return csrCase(context, rng, index, family, entry.der, `${entry.name} as made by openssl`);
    }
    case 'pem': {
      const entry = rng.chance(0.7) ? rng.pick(context.corpus.filter((e) => e.good)) : rng.pick(context.corpus);
      const payload = pemVariant(rng, entry.der, rng.pick(context.corpus).der);
      return csrCase(context, rng, index, family, entry.der, `${entry.name}: ${payload.description}`, payload);
    }
    case 'body':
      return bodyCase(context, rng, index);
    case 'header':
      return headerCase(context, rng, index);
    case 'raw':
      return rawCase(context, rng, index);
    case 'path':
      return pathCase(context, rng, index);
  }
}

const donorBytes = (context: FuzzContext, rng: Prng): Buffer[] => [rng.pick(context.corpus).der, rng.pick(context.corpus).der];
const donorTrees = (context: FuzzContext, rng: Prng): TreeNode[] => [rng.pick(context.corpus).tree, rng.pick(context.corpus).tree];

function sweepCase(context: FuzzContext, rng: Prng, index: number, item: SweepItem): FuzzCase {
  const entry = context.corpus[item.entry];
  if (item.op === 'truncate') return csrCase(context, rng, index, 'sweep', entry.der.subarray(0, item.offset), `${entry.name} truncated at ${item.offset} of ${entry.der.length}`);
  const span = spans(entry.der)[item.span];
  return csrCase(context, rng, index, 'sweep', lieAt(entry.der, span, item.lie), `${entry.name}: length lie ${item.lie} on the TLV at ${span.start} (tag 0x${span.tag.toString(16)})`);
}

/** Options most sign requests share: sometimes an Accept, valid_hours, chunked transfer. */
function signOptions(rng: Prng, carrier: Carrier): { options: SignOptions; accept: 'yes' | 'no' | 'either'; hours: number } {
  let options: SignOptions = {};
  let accept: 'yes' | 'no' | 'either' = 'yes';
  let hours = 24;
  if (rng.chance(0.25)) options = { ...options, accept: rng.pick(ACCEPTS) };
  if (rng.chance(0.08) && !carrier.startsWith('pkcs10')) {
    const entry = rng.pick(VALID_HOURS);
    let value = entry.value;
    accept = entry.accept;
    if (typeof value === 'number' && !carrier.startsWith('json')) {
      value = String(value);
      if (!/^\d+(\.\d+)?$/.test(value) && accept === 'yes') accept = 'either';
    }
    hours = accept === 'yes' ? Math.min(entry.hours, 24) : 24;
    options = { ...options, validHours: value };
  }
  if (rng.chance(0.05)) options = { ...options, chunkSize: rng.pick([1, 7, 100, 4096]) };
  return { options, accept, hours };
}

/** A sign request for `der` (or the given payload), most often with valid credentials. */
function csrCase(context: FuzzContext, rng: Prng, index: number, family: string, der: Buffer, description: string, payload?: CsrPayload): FuzzCase {
  const carrier = rng.weighted(CARRIERS);
  const credentials = credentialChoice(rng, context.secret, carriesFields(carrier), rng.chance(0.03));
  const { options, accept, hours } = signOptions(rng, carrier);
  const sent = payload ?? plainPayload(der, description);
  const request = signRequest(carrier, sent, credentials, options);
  return {
    index,
    family,
    description: `${description} | ${carrier}, credentials: ${credentials.description}${options.validHours !== undefined ? `, valid_hours ${JSON.stringify(options.validHours)}` : ''}${options.accept !== undefined ? `, Accept ${JSON.stringify(options.accept)}` : ''}${options.chunkSize ? `, chunked by ${options.chunkSize}` : ''}`,
    request,
    sign: true,
    carried: credentials.valid === 'no' || accept === 'no' ? [] : sent.candidates,
    maxValidityMs: hours * 3_600_000,
  };
}

// ---- bodies ----

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json', 'application/pkcs10', 'text/plain', '', 'application/octet-stream',
  'application/x-www-form-urlencoded; charset=utf-16', 'application/x-www-form-urlencoded; charset=bogus', 'application/json; charset=latin1',
  'application/json; charset=utf-32', 'APPLICATION/JSON', ' application/json', 'application/json;', 'application/pkcs10; charset=x', 'multipart/mixed; boundary=x',
  'multipart/form-data; boundary=', 'multipart/form-data; boundary="a b"', 'application/*', '*/*', 'application/json, text/plain', 'application/x-pem-file',
  'application/pkcs10; a=b; a=c', 'application/json; charset="utf-8"', 'application/json;charset=UTF-8', 'application/jsonx', 'x/y; boundary=z',
];

function bodyCase(context: FuzzContext, rng: Prng, index: number): FuzzCase {
  const entry = rng.pick(context.corpus.filter((e) => e.good));
  const csrPem = pem(entry.der);
  const good = credentialChoice(rng, context.secret, true, false);
  const auth: [string, string][] = [['Authorization', basic(USER, context.secret)]];
  const fieldsOf = (extra: readonly (readonly [string, string])[] = []) => [...good.fields, ['encoding', 'pem'] as const, ['csr', csrPem] as const, ...extra];
  const request = (body: Buffer, contentType: string | undefined, headers: [string, string][] = auth, chunkSize?: number): HttpRequest => ({
    type: 'http',
    method: 'POST',
    path: SIGN_PATH,
    headers: [...headers, ...(contentType === undefined ? [] : [['Content-Type', contentType] as [string, string]])],
    body,
    ...(chunkSize ? { chunkSize } : {}),
  });
  const form = (fields: readonly (readonly [string, string])[]) => Buffer.from(fields.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&'));
  const make = (description: string, sent: HttpRequest, carried: readonly Buffer[] = []): FuzzCase => ({ index, family: 'body', description: `${entry.name}: ${description}`, request: sent, sign: true, carried, maxValidityMs: DAY_MS });
  const variants: (() => FuzzCase)[] = [
    () => make('random bytes', request(rng.bytes(rng.size(70000)), rng.pick(CONTENT_TYPES))),
    () => make('the CSR under an odd content type', request(rng.chance(0.5) ? entry.der : form(fieldsOf()), rng.pick(CONTENT_TYPES)), [entry.der]),
    () => {
      // [body, whether a certificate may come back]: a field parsers drop, or text after the PEM
      // block, may be ignored; a wrong type, an unknown field or a repeated one may not.
      const csr = JSON.stringify(csrPem);
      const [body, mayIssue] = rng.pick<readonly [string, boolean]>([
        ['[]', false], ['null', false], ['"csr"', false], ['1', false], ['true', false], ['{}', false], ['{"csr": null}', false], ['{"csr": 1}', false],
        [`{"csr": [${csr}]}`, false], [`{"csr": {"pem": ${csr}}}`, false], [`{"csr": ${csr},}`, false], [`{"__proto__": {"csr": ${csr}}}`, false],
        [`{"constructor": {"prototype": {"csr": 1}}, "csr": ${csr}}`, false], [`{"csr": ${csr}, "user": ["${USER}"]}`, false],
        [`{"csr": ${csr}, "valid_hours": "1", "valid_hours": -1}`, false], [`{"csr": "${'\\'.repeat(3)}"}`, false], [`{"csr": ${csr}, "encoding": null}`, false],
        [`{"csr": ${csr}, "valid_hours": {}}`, false], [`{"csr": ${csr}, "valid_hours": [1]}`, false], [`{"csr": ${csr}, "encoding": "base85"}`, false],
        [`{"csr": ${JSON.stringify(`${csrPem}\u0000`)}}`, true], [`\ufeff{"csr": ${csr}}`, true], [`{"csr": ${csr}, "encoding": "PEM"}`, true], [` \n{"csr": ${csr}}\n `, true],
      ]);
      return make(`JSON of an odd shape: ${body.slice(0, 40)}`, request(Buffer.from(body, 'utf8'), 'application/json'), mayIssue ? [entry.der] : []);
    },
    () => {
      // JSON.parse keeps the last of a repeated key; which one a server signs is not specified, so
      // either may be issued — if the policy allows that one.
      const other = rng.pick(context.corpus).der;
      const body = `{"csr": ${JSON.stringify(pem(other))}, "csr": ${JSON.stringify(csrPem)}}`;
      return make('JSON with the csr key twice', request(Buffer.from(body), 'application/json'), [entry.der, other]);
    },
    () => {
      const depth = rng.int(1000, 30000);
      const open = rng.chance(0.5) ? '[' : '{"a":';
      const close = open === '[' ? ']' : '}';
      return make(`JSON nested ${depth} deep`, request(Buffer.from(`${open.repeat(depth)}1${close.repeat(depth)}`), 'application/json'));
    },
    () => make('urlencoded with a repeated field', request(form([...fieldsOf(), [rng.pick(['csr', 'user', 'secret', 'encoding', 'valid_hours']), rng.chance(0.5) ? csrPem : 'x']]), 'application/x-www-form-urlencoded', [])),
    () => make('urlencoded with an unknown field', request(form(fieldsOf([[rng.pick(['colour', 'CSR', 'csr[]', 'constructor', 'hasOwnProperty', 'toString', 'csr ', 'csr\u0000'] as const), 'x']])), 'application/x-www-form-urlencoded', [])),
    // A pair with no name, or named __proto__, is no field at all to some form parsers: issuing is fine, and so is refusing.
    () => make('urlencoded with a pair form parsers may drop', request(form(fieldsOf([[rng.pick(['', '__proto__']), 'x']])), 'application/x-www-form-urlencoded', []), [entry.der]),
    () => make('urlencoded with too many fields', request(form([...fieldsOf(), ...Array.from({ length: rng.int(5, 40) }, (_, i) => [`f${i}`, 'x'] as const)]), 'application/x-www-form-urlencoded', [])),
    () => make('urlencoded, malformed', request(Buffer.from(rng.pick([
      `csr=%zz&user=${USER}`, 'csr=%', 'csr=%E0%A4%A', 'csr', '=x', '&&&', 'csr=a;user=b', `${form(fieldsOf()).toString()}%`, 'csr=+++', `${form(fieldsOf()).toString()}&`,
      `csr=${'%41'.repeat(20000)}`, `user=${USER}&user`, '%00=%00', `${form(fieldsOf()).toString()}&=`,
    ])), 'application/x-www-form-urlencoded', []), [entry.der]),
    () => make('urlencoded with the csr padded to near the limit', request(form([...good.fields, ['csr', `${' '.repeat(rng.int(10000, 30000))}${csrPem}${'\n'.repeat(rng.int(1000, 20000))}`]]), 'application/x-www-form-urlencoded', []), [entry.der]),
    () => make('PEM with 50 KiB of text before it', request(Buffer.from(JSON.stringify({ csr: `${'Certificate Request:\n'.repeat(2400)}${csrPem}` })), 'application/json'), [entry.der]),
    () => make('a body of exactly the limit', request(Buffer.concat([form(fieldsOf()), Buffer.from(`&pad=${'x'.repeat(65536)}`)]).subarray(0, 65536), 'application/x-www-form-urlencoded', [])),
    () => make('a body one byte over the limit', request(Buffer.alloc(65537, 0x30), 'application/pkcs10')),
    () => make('a body over the limit, chunked', request(Buffer.alloc(rng.int(65537, 200000), 0x41), 'application/json', auth, 16384)),
    () => multipartCase(context, rng, index, entry.der, good),
    () => multipartCase(context, rng, index, entry.der, good),
    () => multipartCase(context, rng, index, entry.der, good),
    () => {
      const encoding = rng.pick(['gzip', 'deflate', 'br', 'identity', 'GZIP', 'compress', 'gzip, gzip', 'x-gzip', '']);
      const garble = rng.chance(0.5);
      const body = encodeBody(encoding, form(fieldsOf()), garble);
      const sent = request(body, 'application/x-www-form-urlencoded', [['Content-Encoding', encoding]]);
      return make(`Content-Encoding ${JSON.stringify(encoding)}${garble ? ', garbled' : ''}`, sent, [entry.der]);
    },
    () => make('a DER body split into single-byte chunks', request(entry.der, 'application/pkcs10', auth, 1), [entry.der]),
    () => make('an empty body', request(Buffer.alloc(0), rng.pick(CONTENT_TYPES))),
  ];
  return rng.pick(variants)();
}

function multipartCase(context: FuzzContext, rng: Prng, index: number, der: Buffer, good: CredentialChoice): FuzzCase {
  const boundary = rng.pick(['x', 'mayfly', '----WebKitFormBoundary7MA4YWxkTrZu0gW', 'a'.repeat(70), 'a'.repeat(200), 'b o u n d', '"quoted"', '--', 'é']);
  const credentialParts: Part[] = good.fields.map(([name, value]) => ({ name, value }));
  const file: Part = { name: 'csr', value: der, filename: 'svc.der' };
  const parts = [...credentialParts, file];
  const make = (description: string, body: Buffer, contentType: string, carried: readonly Buffer[] = []): FuzzCase => ({
    index,
    family: 'body',
    description: `multipart: ${description} (boundary ${JSON.stringify(boundary)})`,
    request: { type: 'http', method: 'POST', path: SIGN_PATH, headers: [['Content-Type', contentType]], body },
    sign: true,
    carried,
    maxValidityMs: DAY_MS,
  });
  const type = `multipart/form-data; boundary=${boundary}`;
  const variants: (() => FuzzCase)[] = [
    () => make('well formed', multipart(boundary, parts), type, [der]),
    () => make('quoted boundary parameter', multipart(boundary, parts), `multipart/form-data; boundary="${boundary}"`, [der]),
    () => make('no boundary parameter', multipart(boundary, parts), 'multipart/form-data'),
    () => make('another boundary in the header', multipart(boundary, parts), 'multipart/form-data; boundary=other'),
    () => make('no closing delimiter', multipart(boundary, parts, '\r\n', false), type),
    () => make('LF line ends', multipart(boundary, parts, '\n'), type, [der]),
    () => {
      // Short of the close delimiter: the CRLF after it is optional (RFC 2046 5.1.1), so a body cut in
      // its last two bytes is whole, and busboy rightly reads it (a seeded run issued for one).
      const whole = multipart(boundary, parts);
      return make('cut short', whole.subarray(0, rng.int(1, whole.length - 3)), type);
    },
    () => {
      const whole = multipart(boundary, parts);
      const fileStart = whole.indexOf('filename=');
      return make('cut short inside the csr file part', whole.subarray(0, rng.int(fileStart, whole.length - boundary.length - 6)), type);
    },
    () => make('a part without Content-Disposition', Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: text/plain\r\n\r\nx\r\n`), multipart(boundary, parts)]), type, [der]),
    () => make('a part without a name', multipart(boundary, [...parts, { name: '', value: 'x' }]), type),
    () => make('a field name over 64 characters', multipart(boundary, [...parts, { name: 'c'.repeat(rng.int(65, 300)), value: 'x' }]), type),
    () => make('17 or more parts', multipart(boundary, [...parts, ...Array.from({ length: rng.int(15, 40) }, (_, i) => ({ name: `f${i}`, value: 'x' }))]), type),
    () => make('the csr twice (file and text)', multipart(boundary, [...parts, { name: 'csr', value: pem(der) }]), type),
    () => make('the csr as two files', multipart(boundary, [...parts, { name: 'csr', value: rng.pick(context.corpus).der, filename: 'b.der' }]), type),
    () => make('a file that is not the csr', multipart(boundary, [...credentialParts, { name: 'secret', value: Buffer.from(context.secret), filename: 's' }, file]), type),
    () => make('a huge preamble and epilogue', Buffer.concat([Buffer.alloc(rng.int(100, 30000), 0x20), Buffer.from('\r\n'), multipart(boundary, parts), Buffer.alloc(rng.int(100, 20000), 0x41)]), type, [der]),
    () => make('a nested multipart/mixed part', multipart(boundary, [...credentialParts, { name: 'csr', value: multipart('inner', [file]), contentType: 'multipart/mixed; boundary=inner' }]), type),
    () => make('filename* parameter', Buffer.from(multipart(boundary, parts).toString('latin1').replace('filename="svc.der"', "filename*=UTF-8''sv%C3%A7.der"), 'latin1'), type, [der]),
    () => make('Content-Transfer-Encoding: base64 on the csr part', Buffer.from(multipart(boundary, [...credentialParts, { name: 'csr', value: der.toString('base64'), contentType: 'application/pkcs10\r\nContent-Transfer-Encoding: base64' }]).toString('latin1')), type, [der]),
    () => make('garbage headers in a part', Buffer.from(multipart(boundary, parts).toString('latin1').replace('Content-Disposition', `X: ${'\u0000'.repeat(4)}\r\nContent-Disposition`), 'latin1'), type, [der]),
    () => make('random bytes', rng.bytes(rng.size(20000)), type),
  ];
  return rng.pick(variants)();
}

// ---- headers ----

function headerCase(context: FuzzContext, rng: Prng, index: number): FuzzCase {
  const entry = rng.pick(context.corpus.filter((e) => e.good));
  const credentials = credentialChoice(rng, context.secret, false, rng.chance(0.5));
  const carrier = rng.pick(['json', 'pkcs10'] as const);
  const base = signRequest(carrier, plainPayload(entry.der, entry.name), credentials, rng.chance(0.6) ? { accept: rng.pick(ACCEPTS) } : {});
  const extra: [string, string][] = rng.pick([
    [],
    [['X-Forwarded-For', rng.pick(['10.0.0.1', '127.0.0.1, 10.0.0.1', 'garbage', '::1'])]],
    [['Forwarded', 'for=10.0.0.1;proto=https']],
    [['Expect', rng.pick(['100-continue-please', 'x'])]],
    [['Connection', 'Upgrade'], ['Upgrade', 'websocket']],
    [['Accept-Charset', 'utf-16']],
    [['Accept-Encoding', 'gzip, br, *;q=0']],
    [['Accept', 'application/json'], ['Accept', 'text/plain']],
    [['Content-Type', 'application/json']],
    [['Authorization', basic(USER, 'wrong')]],
    [['User-Agent', 'x'.repeat(rng.int(1000, 12000))]],
    Array.from({ length: rng.int(20, 90) }, (_, i) => [`X-Fuzz-${i}`, String(i)] as [string, string]),
    [['Cookie', 'a=b; '.repeat(500)]],
    [['Range', 'bytes=0-1']],
    [['If-None-Match', '*']],
    [['Host', rng.pick(['evil.example', '', 'a:b:c', '[::1]:1'])]],
    [['X-HTTP-Method-Override', 'GET']],
  ]);
  // A second Authorization or Content-Type makes the request ambiguous: it may be refused, not trusted.
  const ambiguous = extra.some(([name]) => ['authorization', 'content-type', 'host'].includes(name.toLowerCase()));
  const request: HttpRequest = { ...base, headers: [...base.headers, ...extra] };
  return {
    index,
    family: 'header',
    description: `${entry.name} | ${carrier}, credentials: ${credentials.description}, extra headers: ${JSON.stringify(extra.map(([n, v]) => `${n}: ${v.slice(0, 40)}`))}`,
    request,
    sign: true,
    carried: credentials.valid === 'no' && !ambiguous ? [] : [entry.der],
    maxValidityMs: DAY_MS,
  };
}

// ---- raw HTTP ----

function rawCase(context: FuzzContext, rng: Prng, index: number): FuzzCase {
  const entry = rng.pick(context.corpus.filter((e) => e.good));
  const body = entry.der;
  const auth = basic(USER, context.secret);
  const lines = (...header: string[]) => `${header.join('\r\n')}\r\n\r\n`;
  const head = (extra: string[], requestLine = `POST ${SIGN_PATH} HTTP/1.1`) => lines(requestLine, 'Host: 127.0.0.1', `Authorization: ${auth}`, 'Content-Type: application/pkcs10', 'Connection: close', ...extra);
  const raw = (description: string, bytes: Buffer, sign = true): FuzzCase => ({ index, family: 'raw', description: `${entry.name}: ${description}`, request: { type: 'raw', bytes }, sign, carried: [body], maxValidityMs: DAY_MS });
  const withBody = (text: string, payload: Buffer = body) => Buffer.concat([Buffer.from(text, 'latin1'), payload]);
  const chunked = (payload: Buffer, size: number) => {
    const pieces: string[] = [];
    for (let i = 0; i < payload.length; i += size) pieces.push(`${payload.subarray(i, i + size).length.toString(16)}\r\n${payload.subarray(i, i + size).toString('latin1')}\r\n`);
    return pieces.join('');
  };
  const variants: (() => FuzzCase)[] = [
    () => raw('a well-formed request', withBody(head([`Content-Length: ${body.length}`]))),
    () => raw('Content-Length larger than the body', withBody(head([`Content-Length: ${body.length + rng.int(1, 5000)}`]))),
    () => raw('Content-Length smaller than the body', withBody(head([`Content-Length: ${rng.int(0, body.length - 1)}`]))),
    () => raw('Content-Length and Transfer-Encoding', withBody(head([`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked']), Buffer.from(`${chunked(body, 100)}0\r\n\r\n`, 'latin1'))),
    () => raw('two different Content-Lengths', withBody(head([`Content-Length: ${body.length}`, `Content-Length: ${body.length - 10}`]))),
    () => raw('two equal Content-Lengths', withBody(head([`Content-Length: ${body.length}`, `Content-Length: ${body.length}`]))),
    () => raw('Content-Length: a list', withBody(head([`Content-Length: ${body.length}, ${body.length}`]))),
    () => raw('a malformed Content-Length', withBody(head([`Content-Length: ${rng.pick(['abc', '-1', `+${body.length}`, `0x${body.length.toString(16)}`, '1e3', ` ${body.length} `, '99999999999999999999', '', `${body.length}.0`])}`]))),
    () => raw('chunked', withBody(head(['Transfer-Encoding: chunked']), Buffer.from(`${chunked(body, rng.int(1, 200))}0\r\n\r\n`, 'latin1'))),
    () => raw('chunked with a bad chunk size', withBody(head(['Transfer-Encoding: chunked']), Buffer.from(`${rng.pick(['zz', '-5', 'FFFFFFFFFFFFFFFFFF', '1;x=y', '10 ', ''])}\r\n${body.toString('latin1')}\r\n0\r\n\r\n`, 'latin1'))),
    () => raw('chunked with no last chunk', withBody(head(['Transfer-Encoding: chunked']), Buffer.from(chunked(body, 64), 'latin1'))),
    () => raw('a chunk longer than its size', withBody(head(['Transfer-Encoding: chunked']), Buffer.from(`10\r\n${body.toString('latin1')}\r\n0\r\n\r\n`, 'latin1'))),
    () => raw('chunked with trailers', withBody(head(['Transfer-Encoding: chunked']), Buffer.from(`${chunked(body, 300)}0\r\nX-Trailer: 1\r\nContent-Length: 5\r\n\r\n`, 'latin1'))),
    () => raw('an odd Transfer-Encoding', withBody(head([`Transfer-Encoding: ${rng.pick(['gzip, chunked', 'chunked, identity', 'xchunked', 'identity', 'chunked, chunked', 'CHUNKED'])}`]), Buffer.from(`${chunked(body, 100)}0\r\n\r\n`, 'latin1'))),
    () => raw('a header line without a colon', withBody(head([`Content-Length: ${body.length}`, 'NoColonHere']))),
    () => raw('a space before the colon', withBody(head([`Content-Length : ${body.length}`]))),
    () => raw('an obs-fold header', withBody(head([`Content-Length: ${body.length}`, 'X-Folded: a', ' b']))),
    () => raw('a NUL in a header', withBody(head([`Content-Length: ${body.length}`, 'X-Nul: a\u0000b']))),
    () => raw('bare LF line ends', withBody(head([`Content-Length: ${body.length}`]).replace(/\r\n/g, '\n'))),
    () => raw('a bare CR in a header', withBody(head([`Content-Length: ${body.length}`, 'X-Cr: a\rb']))),
    () => raw('a header name with odd characters', withBody(head([`Content-Length: ${body.length}`, 'X(y): 1']))),
    () => raw('an odd request line', withBody(head([`Content-Length: ${body.length}`], rng.pick([
      `POST  ${SIGN_PATH} HTTP/1.1`, `POST ${SIGN_PATH} HTTP/1.2`, `POST ${SIGN_PATH} HTTP/2.0`, `POST ${SIGN_PATH} HTTP/0.9`, `post ${SIGN_PATH} HTTP/1.1`, `FOO ${SIGN_PATH} HTTP/1.1`,
      `POST ${SIGN_PATH}`, `POST http://127.0.0.1${SIGN_PATH} HTTP/1.1`, 'POST * HTTP/1.1', `POST ${SIGN_PATH}\u00ff HTTP/1.1`, `POST /v1/sign/de fault HTTP/1.1`, `POST ${SIGN_PATH}?${'a'.repeat(20000)} HTTP/1.1`,
      `POST ${SIGN_PATH} HTTP/1.0`, `POST /v1/sign/%ZZ HTTP/1.1`, `POST /v1/sign/%00 HTTP/1.1`, ` POST ${SIGN_PATH} HTTP/1.1`, `POST ${SIGN_PATH} HTTP/1.1 extra`,
    ])))),
    () => raw('no Host header', withBody(`POST ${SIGN_PATH} HTTP/1.1\r\nAuthorization: ${auth}\r\nContent-Type: application/pkcs10\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`)),
    () => raw('two Host headers', withBody(head([`Content-Length: ${body.length}`, 'Host: evil.example']))),
    () => raw('headers over 16 KiB', withBody(head([`Content-Length: ${body.length}`, `X-Big: ${'a'.repeat(rng.int(16000, 40000))}`]))),
    () => raw('Expect: 100-continue', withBody(head([`Content-Length: ${body.length}`, 'Expect: 100-continue']))),
    () => raw('an unknown Expect', withBody(head([`Content-Length: ${body.length}`, 'Expect: 200-ok']))),
    () => raw('two pipelined requests', Buffer.concat([withBody(head([`Content-Length: ${body.length}`]).replace('Connection: close', 'Connection: keep-alive')), withBody(head([`Content-Length: ${body.length}`]))])),
    () => raw('a request, then garbage', Buffer.concat([withBody(head([`Content-Length: ${body.length}`]).replace('Connection: close', 'Connection: keep-alive')), rng.bytes(rng.int(1, 500))])),
    () => raw('random bytes', rng.bytes(rng.size(5000))),
    () => raw('CONNECT (Node closes the connection when nobody listens for it)', Buffer.from(lines('CONNECT 127.0.0.1:443 HTTP/1.1', 'Host: 127.0.0.1:443'), 'latin1'), false),
    () => raw('the headers cut short', Buffer.from(head([`Content-Length: ${body.length}`]).slice(0, rng.int(1, 120)), 'latin1')),
    () => raw('HTTP/1.0 with a body and keep-alive', withBody(head([`Content-Length: ${body.length}`], `POST ${SIGN_PATH} HTTP/1.0`).replace('Connection: close', 'Connection: keep-alive'))),
    () => raw('GET with a body', withBody(head([`Content-Length: ${body.length}`], 'GET /v1/ca/default HTTP/1.1')), false),
    () => raw('a urlencoded body with Content-Length counted in characters', (() => {
      const form = `user=${USER}&secret=${encodeURIComponent(context.secret)}&csr=${encodeURIComponent(pem(body))}&x=\u00e9\u00e9`;
      return Buffer.from(lines(`POST ${SIGN_PATH} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/x-www-form-urlencoded', 'Connection: close', `Content-Length: ${form.length}`) + form, 'utf8');
    })()),
  ];
  return rng.pick(variants)();
}

// ---- paths and methods ----

function pathCase(context: FuzzContext, rng: Prng, index: number): FuzzCase {
  const entry = rng.pick(context.corpus.filter((e) => e.good));
  const credentials = credentialChoice(rng, context.secret, false, false);
  const method = rng.weighted([[60, 'POST'], [10, 'GET'], [5, 'PUT'], [5, 'DELETE'], [4, 'PATCH'], [4, 'OPTIONS'], [4, 'HEAD'], [2, 'TRACE'], [2, 'PROPFIND'], [2, 'M-SEARCH']]);
  const path = rng.pick([
    '/v1/sign/%ZZ', '/v1/sign/%E0%A4%A', '/v1/sign/%00', '/v1/sign/..%2Fdefault', '/v1/sign/default%2F', '/v1/sign/default/', '/v1/sign/DEFAULT', '/V1/SIGN/default',
    '/v1/sign/default?x=1&x=2', `/v1/sign/default?csr=${'a'.repeat(100)}`, '/v1/sign/', `/v1/sign/${'a'.repeat(rng.int(100, 8000))}`, '//v1/sign/default', '/v1//sign/default',
    '/v1/sign/d%65fault', '/v1/sign/default;x', '/v1/sign/default%', '/v1/sign/%C0%AE%C0%AE', '/v1/sign/default%20', '/v1/sign/__proto__', '/v1/sign/constructor',
    '/v1/sign/hasOwnProperty', '/v1/ca/default', '/v1/ca/%ZZ', '/v1/ca/nope', '/v1/ca/__proto__', '/v1/audit', '/v1/audit?limit=0', '/v1/audit?limit=1&limit=2', '/v1/audit?since=%ZZ',
    '/v1/audit?after=%ZZ', '/robots.txt', '/', '*', '/v1', '/v1/sign', '/v1/sign/default/../default', '/%2e%2e/v1/sign/default', '/v1/sign/default?%ZZ=1',
  ]);
  const { options, accept, hours } = signOptions(rng, 'json');
  const base = signRequest('json', plainPayload(entry.der, entry.name), credentials, { ...options, path });
  const request: HttpRequest = { ...base, method, ...(method === 'GET' || method === 'HEAD' ? { body: Buffer.alloc(0), headers: base.headers.filter(([n]) => n !== 'Content-Type') } : {}) };
  return {
    index,
    family: 'path',
    description: `${method} ${path.slice(0, 80)} (JSON with ${entry.name})`,
    request,
    sign: method === 'POST' && /sign/i.test(path),
    carried: accept === 'no' ? [] : [entry.der],
    maxValidityMs: hours * 3_600_000,
  };
}

/** A short description of a request, for failure reports: method, path, headers, body as base64. */
export function describeRequest(request: FuzzRequest, limit = 6000): string {
  if (request.type === 'raw') return `raw bytes (base64): ${clip(request.bytes.toString('base64'), limit)}`;
  const headers = request.headers.map(([name, value]) => `${name}: ${clip(value, 200)}`).join('\n    ');
  return `${request.method} ${clip(request.path, 200)}${request.chunkSize ? ` (chunked by ${request.chunkSize})` : ''}\n    ${headers}\n    body (${request.body.length} bytes, base64): ${clip(request.body.toString('base64'), limit)}`;
}

const clip = (text: string, limit: number): string => (text.length > limit ? `${text.slice(0, limit)}…(${text.length - limit} more)` : text);
