/**
 * One YAML file parsed with its positions kept, so a problem found in the parsed value (by zod, by a
 * cross-file check, by the directory check) can be reported at the line and column it came from.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

export type KeyPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export interface YamlSource {
  file: string;
  /** The plain value (null for an empty file); only meaningful when `syntaxErrors` is empty. */
  value: unknown;
  syntaxErrors: { line: number; column: number; message: string }[];
  /**
   * Where `path` is written. `target: 'value'` (default) points at the value, `'key'` at the key that
   * holds it. When the path does not exist (a missing key) this is the deepest mapping or list that
   * does, so "required key is missing" points at the place to add it.
   */
  locate(path: KeyPath, target?: 'key' | 'value'): Position;
}

const START: Position = { line: 1, column: 1 };

export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const syntaxErrors = doc.errors.map((error) => {
    const at = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
    // yaml's pretty messages repeat the position and quote the source after a colon; keep the first line.
    const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
    return { line: at.line, column: at.col, message: `YAML syntax error: ${message}` };
  });
  const value: unknown = syntaxErrors.length === 0 ? doc.toJS({ maxAliasCount: 100 }) : null;

  const positionOf = (node: { range?: [number, number, number] | null } | null | undefined): Position | null => {
    if (!node?.range) return null;
    const at = lineCounter.linePos(node.range[0]);
    return { line: at.line, column: at.col };
  };

  return {
    file,
    value,
    syntaxErrors,
    locate(path, target = 'value') {
      return locateIn(doc, path, target, positionOf) ?? START;
    },
  };
}

function locateIn(
  doc: Document,
  path: KeyPath,
  target: 'key' | 'value',
  positionOf: (node: { range?: [number, number, number] | null } | null | undefined) => Position | null,
): Position | null {
  let node: Node | null = doc.contents;
  let keyNode: Node | null = null;
  for (const segment of path) {
    keyNode = null;
    let next: Node | null = null;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      if (pair) {
        keyNode = pair.key as Node;
        next = pair.value as Node | null;
        // `key:` with nothing after it: the key is the place to point at.
        if (!next || !positionOf(next) || (isScalar(next) && next.value === null)) next = keyNode;
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      next = (node.items[segment] as Node | undefined) ?? null;
    }
    if (!next) return positionOf(node);
    node = next;
  }
  if (target === 'key' && keyNode) return positionOf(keyNode);
  return positionOf(node);
}

function keyText(key: unknown): string | null {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : null;
}

/** `roles[0].duration.default`, the way problems name a key. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
