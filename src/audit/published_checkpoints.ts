import type { AuditReader, Checkpoint } from './store';

/** The latest tree checkpoint of a chain (the last one signed as a C2SP note). */
export async function latestCheckpoint(reader: AuditReader, chain: string): Promise<(Checkpoint & { note: string }) | undefined> {
  const checkpoints = await reader.checkpoints(chain);
  return checkpoints.filter((c): c is Checkpoint & { note: string } => c.note !== undefined).pop();
}

/**
 * What `mayfly audit checkpoint` prints and GET /v1/audit/checkpoint serves, to be kept elsewhere:
 * the latest signed checkpoint of every chain, in chain order, each note ending in its signature
 * lines and separated from the next by one blank line. Empty when nothing is sealed yet.
 */
export async function publishedCheckpoints(reader: AuditReader): Promise<string> {
  const notes: string[] = [];
  for (const chain of await reader.chains()) {
    const latest = await latestCheckpoint(reader, chain);
    if (latest) notes.push(latest.note);
  }
  return notes.join('\n');
}
