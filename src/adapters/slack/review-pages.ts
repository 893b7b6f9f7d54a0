/**
 * Which page of their list a reviewer's DM shows: the Slack adapter's own state (kept in the
 * store's meta), so a list brought up to date after a decision stays on the page the reviewer
 * turned to.
 */
import type { Store } from '../../operations/ports.js';

const PREFIX = 'slack:review-page:';

export async function reviewPage(
  store: Pick<Store, 'getMeta'>,
  campaignId: string,
  reviewerId: string,
): Promise<number> {
  const value = Number(await store.getMeta(`${PREFIX}${campaignId}:${reviewerId}`));
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

export async function setReviewPage(
  store: Pick<Store, 'transaction'>,
  campaignId: string,
  reviewerId: string,
  page: number,
  at: string,
): Promise<void> {
  await store.transaction((tx) => tx.setMeta(`${PREFIX}${campaignId}:${reviewerId}`, String(page), at));
}
