// A tiny authoritative DNS server on loopback UDP for ACME tests: A/AAAA answers from a table, TXT
// answers from a file that a client's hook (lego's `exec` provider, a uacme hook) writes, one
// "name value" line per record, read again at every query.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';

const TYPE = { A: 1, TXT: 16, AAAA: 28 } as const;

export interface TestDnsServer {
  readonly port: number;
  readonly address: string;
  /** Names asked for, in order (lowercase, no trailing dot), with their query type. */
  readonly queries: { name: string; type: number }[];
  close(): Promise<void>;
}

export interface TestDnsOptions {
  /** Addresses by name (lowercase); a name not listed has none. A `*.zone` key answers every name under zone. */
  readonly addresses: Readonly<Record<string, readonly string[]>>;
  /** The TXT records file: lines "name value"; absent or unreadable means no TXT records. */
  readonly txtFile: string;
}

function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  while (message[at] !== 0) {
    const length = message[at];
    labels.push(message.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  return { name: labels.join('.').toLowerCase(), end: at + 1 };
}

function addressesOf(options: TestDnsOptions, name: string): readonly string[] {
  if (options.addresses[name]) return options.addresses[name];
  const wildcard = Object.keys(options.addresses).find((key) => key.startsWith('*.') && name.endsWith(key.slice(1)));
  return wildcard ? options.addresses[wildcard] : [];
}

function txtRecords(options: TestDnsOptions, name: string): string[] {
  let text = '';
  try {
    text = readFileSync(options.txtFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([recordName, value]) => value !== undefined && recordName.toLowerCase().replace(/\.$/, '') === name)
    .map(([, value]) => value);
}

function answer(query: Buffer, options: TestDnsOptions, log: { name: string; type: number }[]): Buffer {
  const { name, end } = readName(query, 12);
  const type = query.readUInt16BE(end);
  log.push({ name, type });
  const question = query.subarray(12, end + 4);
  const rdatas: Buffer[] = [];
  if (type === TYPE.A) for (const address of addressesOf(options, name).filter((a) => !a.includes(':'))) rdatas.push(Buffer.from(address.split('.').map(Number)));
  if (type === TYPE.AAAA) {
    for (const address of addressesOf(options, name).filter((a) => a.includes(':'))) {
      const [head, tail = ''] = address.split('::');
      const groups = [...head.split(':').filter(Boolean), ...Array(8 - head.split(':').filter(Boolean).length - tail.split(':').filter(Boolean).length).fill('0'), ...tail.split(':').filter(Boolean)];
      rdatas.push(Buffer.from(groups.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff])));
    }
  }
  if (type === TYPE.TXT) for (const value of txtRecords(options, name)) rdatas.push(Buffer.concat([Buffer.of(value.length), Buffer.from(value, 'latin1')]));
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100), 2); // response, authoritative, RD copied
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdatas.length, 6);
  const answers = rdatas.map((rdata) => {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    fixed.writeUInt16BE(type, 2);
    fixed.writeUInt16BE(1, 4);
    fixed.writeUInt32BE(1, 6); // TTL 1 s
    fixed.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([fixed, rdata]);
  });
  return Buffer.concat([header, question, ...answers]);
}

/** Starts the server on 127.0.0.1 and an ephemeral port. */
export function startTestDns(options: TestDnsOptions): Promise<TestDnsServer> {
  const socket: Socket = createSocket('udp4');
  const queries: { name: string; type: number }[] = [];
  socket.on('message', (message, peer) => {
    try {
      socket.send(answer(message, options, queries), peer.port, peer.address);
    } catch {
      // A malformed query gets no answer.
    }
  });
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      resolve({ port: socket.address().port, address: '127.0.0.1', queries, close: () => new Promise<void>((done) => socket.close(() => done())) });
    });
  });
}
