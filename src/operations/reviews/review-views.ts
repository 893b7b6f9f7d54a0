/**
 * What a reviewer sees, read from the store: their list in a campaign (one page of it), and their
 * undecided items across open campaigns. The Slack adapter renders these with the block builders.
 */
import type { Catalog } from '../../domain/catalog.js';
import { accessLabel, type ReviewCampaign, type ReviewItem } from '../../domain/reviews/review-records.js';
import type { Deps } from '../context.js';

export interface ReviewerList {
  campaign: ReviewCampaign;
  total: number;
  pending: number;
  decided: number;
  page: number;
  pageCount: number;
  items: ReviewItem[];
  accessNames: Record<string, string>;
}

/** One page of a reviewer's list (clamped to the pages there are). Undefined when the campaign is gone. */
export async function reviewerList(
  deps: Pick<Deps, 'store' | 'catalog'>,
  input: { campaignId: string; reviewerId: string; page: number; pageSize: number },
): Promise<ReviewerList | undefined> {
  const campaign = await deps.store.getReviewCampaign(input.campaignId);
  if (!campaign) return undefined;
  const progress = (await deps.store.reviewerProgress(campaign.id, input.reviewerId))[0] ?? {
    assigned: 0,
    pending: 0,
    decided: 0,
  };
  const pageCount = Math.max(1, Math.ceil(progress.assigned / input.pageSize));
  const page = Math.min(Math.max(0, input.page), pageCount - 1);
  const rows = await deps.store.reviewerItems(campaign.id, input.reviewerId, {
    offset: page * input.pageSize,
    limit: input.pageSize,
  });
  const items = rows.map((r) => r.item);
  return {
    campaign,
    total: progress.assigned,
    pending: progress.pending,
    decided: progress.decided,
    page,
    pageCount,
    items,
    accessNames: accessNames(deps.catalog, items),
  };
}

export interface MyReviews {
  campaigns: { campaign: ReviewCampaign; pending: number; total: number; items: ReviewItem[] }[];
  accessNames: Record<string, string>;
}

/** The person's undecided items in open campaigns, up to `perCampaign` of each, in their list's order. */
export async function myReviewItems(
  deps: Pick<Deps, 'store' | 'catalog'>,
  personId: string,
  perCampaign: number,
): Promise<MyReviews> {
  const items = await deps.store.openReviewItemsFor(personId, 1000);
  const byCampaign = new Map<string, ReviewItem[]>();
  for (const item of items) {
    const list = byCampaign.get(item.campaignId) ?? [];
    if (list.length < perCampaign) list.push(item);
    byCampaign.set(item.campaignId, list);
  }
  const campaigns: MyReviews['campaigns'] = [];
  for (const [campaignId, shown] of byCampaign) {
    const campaign = await deps.store.getReviewCampaign(campaignId);
    if (!campaign) continue;
    const progress = (await deps.store.reviewerProgress(campaignId, personId))[0] ?? {
      assigned: 0,
      pending: 0,
      decided: 0,
    };
    campaigns.push({ campaign, pending: progress.pending, total: progress.assigned, items: shown });
  }
  return {
    campaigns,
    accessNames: accessNames(
      deps.catalog,
      campaigns.flatMap((c) => c.items),
    ),
  };
}

/** "GitHub · Organization owner" for `github/owner`; "Group aws-prod-readonly" for a group. */
export function accessNames(catalog: Catalog, items: readonly ReviewItem[]): Record<string, string> {
  const names: Record<string, string> = {};
  for (const item of items) {
    const label = accessLabel(item.access);
    if (names[label]) continue;
    if (item.access.kind === 'group') {
      names[label] = `Group ${item.access.group}`;
      continue;
    }
    const entry = catalog.find(item.access.app, item.access.role);
    names[label] = entry ? `${entry.app.name} · ${entry.role.name}` : label;
  }
  return names;
}
