import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomic_file';
import { errorMessage } from '../error_message';

// The outcome of the last `mayfly audit verify` on this host, kept beside the audit key so the
// console's overview can say when the ledger was last checked whole and what that found. A full
// check walks every record, so the server never runs one itself (it would hold up signing).

export interface VerifyResult {
  readonly time: string;
  readonly ok: boolean;
  /** What verification found, when not ok. */
  readonly problem?: string;
  readonly chains: number;
  /** Records under no checkpoint yet, over all chains. */
  readonly unsealed: number;
  /** Whether the ledger was also checked against an exported checkpoint (verify --checkpoint). */
  readonly witnessed: boolean;
}

/** Beside the audit key: the folder of the files the ledger's owner keeps. */
export const verifyResultFile = (auditKeyFile: string): string => join(dirname(auditKeyFile), 'audit-verify.json');

/** Records a result; says why when it cannot (e.g. an auditor without write access to the folder). */
export async function recordVerifyResult(file: string, result: VerifyResult): Promise<string | undefined> {
  try {
    await writeFileAtomic(file, `${JSON.stringify(result)}\n`, 0o600);
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
}

/** The last recorded result, or undefined when there is none (or the file is not one). */
export async function readVerifyResult(file: string): Promise<VerifyResult | undefined> {
  try {
    const result = JSON.parse(await readFile(file, 'utf8')) as Partial<VerifyResult>;
    return typeof result.time === 'string' && typeof result.ok === 'boolean' ? (result as VerifyResult) : undefined;
  } catch {
    return undefined;
  }
}
