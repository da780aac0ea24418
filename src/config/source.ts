import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';

// A YAML file that can say where each key stands, and the error listing every problem with its
// file:line: shared by mayfly.yaml (load.ts) and the client's agent.yaml, which imports nothing else.

export type KeyPath = readonly (string | number)[];

export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path of the offending key, e.g. registration_authority.default.valid_hours */
  readonly key: string;
  readonly message: string;
}

/** The config cannot be used; every problem names its file, line and key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.key || '(top level)'}: ${p.message}`).join('\n'));
  }
}

/** A parsed YAML file that can say where any key path stands in it. */
export class ConfigSource {
  private readonly lineCounter = new LineCounter();
  readonly document: Document;

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.document = parseDocument(text, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
  }

  /** The problem at `path`; for a key that is absent, the nearest present parent. */
  problem(path: KeyPath, message: string, unknownKey?: string): ConfigProblem {
    let offset = 0;
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.document.getIn(path.slice(0, depth), true) as Node | undefined;
      if (node && typeof node === 'object' && node.range) {
        offset = (unknownKey !== undefined && depth === path.length && keyNode(node, unknownKey)?.range?.[0]) || node.range[0];
        break;
      }
    }
    const { line, column } = this.position(offset);
    const key = [...path, ...(unknownKey === undefined ? [] : [unknownKey])].map((part) => (typeof part === 'number' ? `[${part}]` : part)).join('.').replace(/\.\[/g, '[');
    return { file: this.file, line, column, key, message };
  }

  /** Line and column (both from 1) of a character offset. */
  position(offset: number): { line: number; column: number } {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }
}

function keyNode(node: unknown, key: string): Node | undefined {
  if (!isMap(node)) return undefined;
  const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
  return pair && (pair.key as Node);
}

