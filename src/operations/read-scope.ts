/**
 * Reads within one operation are shared. One operation is what one person's click, command or
 * form submission sets off (identifying them, then the decision), or one job: the directory is
 * asked for the same person, the same person's groups or the same group's members once in it, not
 * once per function that needs them. Nothing is kept past the operation: the next one reads live
 * again, so no decision rests on data read for another.
 *
 * The scope is an object handed down, not an ambient context: the Slack listener router and the job
 * runner give each operation its own view of the directory (`Directory.forOperation`, through
 * operation-scope.ts), which holds a `SharedReads` of its own. A directory adapter wraps its reads
 * in `read` and drops what a write may have changed (`forget`), so a membership read back after a
 * change is read anew. The directory itself, outside any operation, shares nothing.
 */
export class SharedReads {
  private readonly reads = new Map<string, Promise<unknown>>();

  /** The value of `key`, read once within this operation. */
  read<T>(key: string, read: () => Promise<T>): Promise<T> {
    const known = this.reads.get(key);
    if (known) return known as Promise<T>;
    const pending = read();
    this.reads.set(key, pending);
    // A failed read is not shared: whoever asks next tries again.
    pending.catch(() => {
      if (this.reads.get(key) === pending) this.reads.delete(key);
    });
    return pending;
  }

  /** Drops the shared reads whose key starts with one of `prefixes` (after a write that changes them). */
  forget(...prefixes: string[]): void {
    for (const key of [...this.reads.keys()]) if (prefixes.some((p) => key.startsWith(p))) this.reads.delete(key);
  }

  /**
   * Records `value` as the read of `key`, unless it was read already: a listing that returned whole
   * records (a group's members) answers the reads of each of them.
   */
  prime<T>(key: string, value: T): void {
    if (!this.reads.has(key)) this.reads.set(key, Promise.resolve(value));
  }
}
