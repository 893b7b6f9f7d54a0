/**
 * Offboarding signals from Okta for the reconcile schedule: the System Log's deactivations and
 * suspensions from the stored cursor (Okta's next link, saved after each page), and a batched
 * status check of everyone who holds access (one search per batch finds the candidates; each is
 * confirmed by id, since search is eventually consistent).
 */
import type { OffboardingSignal, OffboardingSource } from '../../operations/reconcile.js';
import type { OktaDirectory } from './okta-directory.js';
import { checkStatuses, readDeactivations } from './system-log-offboarding.js';

export const SYSTEM_LOG_CURSOR_KEY = 'okta:system-log:cursor';

export function oktaSystemLogSource(directory: OktaDirectory, options: { maxPages?: number } = {}): OffboardingSource {
  return {
    name: 'okta system log',
    live: false, // the reconcile confirms each signal with a live read before offboarding
    async collect(deps, holders, signal) {
      const holding = new Set(holders);
      const found: OffboardingSignal[] = [];
      let cursor = (await deps.store.getMeta(SYSTEM_LOG_CURSOR_KEY)) ?? null;
      for (let page = 0; page < (options.maxPages ?? 50) && !signal?.aborted; page++) {
        const result = await readDeactivations(directory.client, cursor, deps.clock.now(), { logger: deps.logger });
        for (const person of result.people) {
          if (!holding.has(person.oktaId)) continue;
          found.push({
            directoryId: person.oktaId,
            status: person.eventType === 'user.lifecycle.suspend' ? 'suspended' : 'deprovisioned',
            source: 'okta system log',
          });
        }
        cursor = result.cursor;
        const saved = cursor;
        await deps.store.transaction((tx) => tx.setMeta(SYSTEM_LOG_CURSOR_KEY, saved, deps.clock.now().toISOString()));
        if (!result.more) break;
      }
      return found;
    },
  };
}

export function oktaStatusCheck(directory: OktaDirectory, options: { batchSize?: number } = {}): OffboardingSource {
  return {
    name: 'okta status check',
    live: true, // each signal is confirmed with GET /users/{id} (checkStatuses)
    async collect(_deps, holders) {
      const gone = await checkStatuses(directory, [...holders], options.batchSize ?? 20);
      return gone.map((p) => ({ directoryId: p.id, status: p.status, source: 'okta status check' }));
    },
  };
}
