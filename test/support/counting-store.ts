/**
 * A store that counts the calls made to it, by method name, outside transactions and inside them:
 * a test proves a read happens once per batch rather than once per row.
 */
import type { Store } from '../../src/operations/ports.js';

export interface CountingStore {
  store: Store;
  /** Calls of this method since the last `reset()`. */
  calls(method: string): number;
  reset(): void;
}

export function countingStore(inner: Store): CountingStore {
  const counts = new Map<string, number>();
  const counted = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, name) {
        const value = Reflect.get(object, name, object) as unknown;
        if (typeof value !== 'function' || typeof name !== 'string') return value;
        return (...args: unknown[]) => {
          counts.set(name, (counts.get(name) ?? 0) + 1);
          if (name === 'transaction') {
            const [fn, ...rest] = args as [(tx: object) => unknown, ...unknown[]];
            return (value as (...a: unknown[]) => unknown).call(object, (tx: object) => fn(counted(tx)), ...rest);
          }
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      },
    });
  return {
    store: counted(inner),
    calls: (method) => counts.get(method) ?? 0,
    reset: () => counts.clear(),
  };
}
