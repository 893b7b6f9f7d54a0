/** Reading one policy or review file, and wording its schema problems with file, line and key. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { describeIssue } from '../../domain/policy-schema.js';
import { FILE_LEVEL, fileProblem, type PolicyProblem } from './policy-problem.js';
import { formatKeyPath, parseYamlSource, type KeyPath, type YamlSource } from './yaml-source.js';

export async function readSource(file: string, problems: PolicyProblem[]): Promise<YamlSource | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    problems.push(fileProblem(file, `cannot read the file: ${describeFsError(error)}`));
    return null;
  }
  const source = parseYamlSource(file, text);
  for (const e of source.syntaxErrors)
    problems.push({ file, line: e.line, column: e.column, path: FILE_LEVEL, message: e.message });
  return source;
}

export function problemAt(
  source: YamlSource,
  path: KeyPath,
  message: string,
  target: 'key' | 'value' = 'value',
): PolicyProblem {
  return { file: source.file, ...source.locate(path, target), path: formatKeyPath(path), message };
}

export function issuesToProblems(source: YamlSource, issues: readonly z.core.$ZodIssue[]): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    if (issue.code === 'unrecognized_keys') {
      // One problem per unknown key, at the key itself: that is the line to fix.
      for (const key of issue.keys) out.push(problemAt(source, [...path, key], `unknown key '${key}'`, 'key'));
    } else {
      out.push(problemAt(source, path, describeIssue(issue, source.value)));
    }
  }
  return out;
}

export function describeFsError(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = String((error as { code: unknown }).code);
    if (code === 'ENOENT') return 'it does not exist';
    if (code === 'ENOTDIR') return 'it is not a folder';
    if (code === 'EACCES') return 'permission denied';
    return code;
  }
  return error instanceof Error ? error.message : String(error);
}
