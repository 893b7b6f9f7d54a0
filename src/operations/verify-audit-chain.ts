/** The stored audit log checked end to end: `audit verify`, and `db copy` on both sides. */
import { ChainVerifier, type AuditEvent, type ChainVerification } from '../domain/audit.js';
import type { StoreReads } from './ports.js';

/**
 * The stored log's chain, read in written order in batches so memory stays flat on a long log.
 * `onEvent` sees each event the chain check accepted (the checkpoint check rides along).
 */
export async function verifyStoredChain(
  store: Pick<StoreReads, 'auditEvents'>,
  expectHead?: string,
  batch = 5000,
  onEvent?: (event: AuditEvent) => void,
): Promise<ChainVerification> {
  const verifier = new ChainVerifier(expectHead);
  for (let afterId = 0; ;) {
    const events = await store.auditEvents({ afterId, limit: batch });
    if (events.length === 0) break;
    for (const event of events) {
      if (!verifier.push(event)) return verifier.finish();
      onEvent?.(event);
    }
    afterId = events[events.length - 1]!.id;
  }
  return verifier.finish();
}
