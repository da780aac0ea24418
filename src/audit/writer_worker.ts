// The ledger's writer, on its own thread: commits (each an fsync, or a round trip to PostgreSQL) never
// wait on the event loop that serves requests. The chain itself is kept by ChainWriter.
import { createPrivateKey } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { ChainWriter } from './chain_writer';
import { describeStore, openAuditStore } from './open_store';
import type { WriterMessage, WriterOptions, WriterReply } from './writer_protocol';

const options = workerData as WriterOptions;
const port = parentPort!;
const reply = (message: WriterReply) => port.postMessage(message);

async function start(): Promise<void> {
  let writer: ChainWriter;
  let store;
  try {
    store = await openAuditStore(options.store, options.chain);
  } catch (error) {
    reply({ type: 'failed', message: `the audit ledger ${describeStore(options.store)} cannot be opened: ${(error as Error).message}` });
    process.exit(1);
  }
  writer = new ChainWriter(store, options.chain, createPrivateKey(options.keyPem), options.checkpointEvery, reply);
  // Off the path of the first requests; a chain left unsealed now is sealed by the next start.
  const sealing = writer.sealDeadChains().catch(() => undefined);
  const timer = setInterval(() => void writer.checkpoint(), options.checkpointIntervalMs);
  timer.unref();
  port.on('message', (message: WriterMessage) => {
    if (message.type === 'append') writer.append(message.entries);
    else if (message.type === 'probe') {
      store.problem().then(
        (problem) => reply({ type: 'probed', id: message.id, ...(problem !== undefined ? { problem } : {}) }),
        (error: unknown) => reply({ type: 'probed', id: message.id, problem: (error as Error).message }),
      );
    } else {
      clearInterval(timer);
      void sealing.then(() => writer.close()).finally(() => reply({ type: 'closed' }));
    }
  });
  reply({ type: 'ready' });
}

void start();
