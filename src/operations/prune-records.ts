/**
 * Housekeeping: what only piles up is deleted once it is older than `retention` (settings.yml,
 * default 90 days): finished jobs (done, or given up), and the records of posted messages that
 * nothing will update again. Never an audit event, a request, a grant or a decision (the evidence),
 * never a job still waiting or running, never the record of a message a later update will edit
 * (a request still pending, a grant still held), never a remembered DM channel.
 *
 * In small batches, each its own short transaction, so a first pass over years of history never
 * holds the write lock for long, and at most `maxBatches` per pass: the rest waits for the next
 * sweep, which re-derives what is old from the database.
 */
import { addSeconds, type Deps } from './context.js';

export interface PruneSummary {
  jobs: number;
  messages: number;
}

export interface PruneOptions {
  /** Rows per transaction. */
  batch?: number;
  /** Transactions per kind of record and pass. */
  maxBatches?: number;
  signal?: AbortSignal;
}

export async function pruneOldRecords(
  deps: Pick<Deps, 'store' | 'settings' | 'clock'>,
  options: PruneOptions = {},
): Promise<PruneSummary> {
  const batch = options.batch ?? 500;
  const maxBatches = options.maxBatches ?? 20;
  const before = addSeconds(deps.clock.now().toISOString(), -deps.settings.retentionSeconds);
  const drain = async (prune: () => Promise<number>): Promise<number> => {
    let total = 0;
    for (let i = 0; i < maxBatches && !options.signal?.aborted; i++) {
      const n = await prune();
      total += n;
      if (n < batch) break;
    }
    return total;
  };
  const jobs = await drain(() => deps.store.transaction((tx) => tx.pruneJobs(before, batch)));
  const messages = await drain(() => deps.store.messages.prune(before, batch));
  return { jobs, messages };
}
