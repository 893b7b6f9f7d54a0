/**
 * The weekly digest is a message the bot owes the security channel: a job keyed by its schedule
 * slot (or the moment an admin asked), so it is posted once, retried with backoff when Slack
 * fails, and rendered for the week ending at `at` whenever it is finally sent.
 */
import type { Deps } from './context.js';
import { notify } from './lifecycle.js';

export async function queueDigest(
  deps: Pick<Deps, 'store' | 'settings' | 'clock'>,
  input: { at: string; key: string },
): Promise<string> {
  const key = `digest:${input.key}`;
  const now = deps.clock.now().toISOString();
  await deps.store.transaction((tx) =>
    notify(tx, now, key, {
      type: 'digest',
      recipient: { kind: 'channel', channel: deps.settings.securityChannel },
      at: input.at,
    }),
  );
  return `notify:${key}`;
}
