/** Bounded concurrency for directory reads: Okta asks integrations to keep their requests in flight few. */

/** Runs `fn` over `items` with at most `limit` in flight; stops taking new items once `signal` aborts. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
