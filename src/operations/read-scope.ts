/**
 * Reads within one operation are shared. One operation is what one person's click, command or
 * form submission sets off (identifying them, then the decision), or one job: the directory is
 * asked for the same person, the same person's groups or the same group's members once in it, not
 * once per function that needs them. Nothing is kept past the operation: the next one reads live
 * again, so no decision rests on data read for another.
 *
 * The Slack listener router and the job runner open a scope around each operation
 * (`withReadScope`); a directory adapter wraps its reads in `sharedRead` and drops what a write
 * may have changed (`forgetSharedReads`), so a membership read back after a change is read anew.
 * Outside a scope every read goes to the directory.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<Map<string, Promise<unknown>>>();

/** Runs `operation` with a fresh set of shared reads. */
export function withReadScope<T>(operation: () => Promise<T>): Promise<T> {
  return scope.run(new Map(), operation);
}

/** The value of `key`, read once within the current operation (every time outside one). */
export function sharedRead<T>(key: string, read: () => Promise<T>): Promise<T> {
  const reads = scope.getStore();
  if (!reads) return read();
  const known = reads.get(key);
  if (known) return known as Promise<T>;
  const pending = read();
  reads.set(key, pending);
  // A failed read is not shared: whoever asks next tries again.
  pending.catch(() => {
    if (reads.get(key) === pending) reads.delete(key);
  });
  return pending;
}

/** Drops the shared reads whose key starts with one of `prefixes` (after a write that changes them). */
export function forgetSharedReads(...prefixes: string[]): void {
  const reads = scope.getStore();
  if (!reads) return;
  for (const key of [...reads.keys()]) if (prefixes.some((p) => key.startsWith(p))) reads.delete(key);
}

/**
 * Records `value` as the read of `key` in the current operation, unless it was read already: a
 * listing that returned whole records (a group's members) answers the reads of each of them.
 */
export function primeSharedRead<T>(key: string, value: T): void {
  const reads = scope.getStore();
  if (reads && !reads.has(key)) reads.set(key, Promise.resolve(value));
}
