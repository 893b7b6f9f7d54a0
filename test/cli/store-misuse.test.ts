import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/run.js';
import { withRuntime } from '../../src/cli/runtime-context.js';
import { StoreMisuseError } from '../../src/operations/operation-scope.js';
import { EXAMPLE_ENV } from './helpers.js';

let dir: string;
let env: Record<string, string>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-cli-misuse-'));
  env = { ...EXAMPLE_ENV, DATABASE_PATH: join(dir, 'access.db') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A command, written as the real ones are, that uses the store where its transaction should. */
const misuse: Command = {
  name: 'misuse',
  summary: 'starts a transaction inside its own transaction',
  usage: 'access-bot misuse',
  run: (_args, io) =>
    withRuntime(io, async ({ deps }) => {
      const now = deps.clock.now().toISOString();
      await deps.store.transaction(async (tx) => {
        await tx.setMeta('marked', 'yes', now);
        // Should be tx.setMeta: the store runs one transaction at a time, so this one would wait
        // for the one it is inside, which waits for it.
        await deps.store.transaction((inner) => inner.setMeta('inner', 'yes', now));
      });
      return 0;
    }),
};

/** Rejects if `promise` has not settled within `ms`: a command that would hang fails the test instead. */
function within<T>(promise: Promise<T>, ms = 3000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms).unref()),
  ]);
}

describe('a command that misuses its store', () => {
  it('fails at once with StoreMisuseError, rolls back, and leaves the database usable', async () => {
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env };
    const error = await within(runCli(['misuse'], io, [misuse])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreMisuseError);
    expect(String(error)).toMatch(/a sqlite transaction was started inside another one/);
    // The database was closed and opens again; the transaction's write was rolled back.
    const written = await withRuntime(io, async ({ store }) => [
      await store.getMeta('marked'),
      await store.getMeta('inner'),
    ]);
    expect(written).toEqual([undefined, undefined]);
  });
});
