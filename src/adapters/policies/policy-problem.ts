/** One problem in a policy file, located so an author can jump to it. */
export interface PolicyProblem {
  file: string;
  line: number;
  column: number;
  /** The key, as `roles[0].duration.default`; `(file)` for a problem with the file itself. */
  path: string;
  message: string;
}

/** The key path of a problem with the file (or folder) itself, not with one of its keys. */
export const FILE_LEVEL = '(file)';

/** A problem with the file (or folder) itself: located at its start. */
export function fileProblem(file: string, message: string): PolicyProblem {
  return { file, line: 1, column: 1, path: FILE_LEVEL, message };
}

/** `file:line:col path: message`, the form editors and CI logs link to. */
export function formatProblem(problem: PolicyProblem): string {
  return `${problem.file}:${problem.line}:${problem.column} ${problem.path}: ${problem.message}`;
}

/** By file, then line, then column. */
export function sortProblems(problems: readonly PolicyProblem[]): PolicyProblem[] {
  return [...problems].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column,
  );
}

/** The policy folder is invalid: every problem found, sorted by file and line. */
export class PolicyLoadError extends Error {
  readonly problems: PolicyProblem[];

  constructor(problems: PolicyProblem[]) {
    const sorted = sortProblems(problems);
    super(sorted.map(formatProblem).join('\n'));
    this.name = 'PolicyLoadError';
    this.problems = sorted;
  }
}
