/**
 * `/access review` (the items waiting for me, with Keep and Revoke…) and `/access review start <id>`
 * (admins): the start reads the whole population, which can take minutes on a large directory, so
 * it runs after the answer and tells the admin when every reviewer has their list.
 */
import type { SlackMessage } from '../../../blocks/approval-message.js';
import { textMessage } from '../../../blocks/command-replies.js';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { MY_REVIEW_ITEMS_SHOWN, myReviewsMessage } from '../../../blocks/review-message.js';
import { markSeen } from '../../operations/reviews/decide-review-item.js';
import { myReviewItems } from '../../operations/reviews/review-views.js';
import { findReview, startReview } from '../../operations/reviews/start-review.js';
import { assertAdmin } from '../../operations/revoke-grant.js';
import type { SubcommandCall } from './access-commands.js';
import { explain, identify } from './context.js';

export async function reviewSubcommand(call: SubcommandCall): Promise<SlackMessage> {
  // Review ids are lower-case slugs: `review START Quarterly-X` finds quarterly-x.
  const [action, id] = call.words.map((w) => w.toLowerCase());
  if (action === 'start') return startFromSlack(call, id);
  if (action !== undefined)
    return textMessage(
      `Usage: \`/access review\` lists the review items waiting for you; admins start a review with \`/access review start <id>\`.`,
    );
  const { ctx, client, userId } = call;
  const me = await identify(ctx, client, userId);
  const mine = await myReviewItems(ctx.deps, me.person.id, MY_REVIEW_ITEMS_SHOWN);
  // Shown to them now: their first look at these items.
  await markSeen(
    ctx.deps,
    me.person.id,
    mine.campaigns.flatMap((c) => c.items.map((i) => i.id)),
  );
  return myReviewsMessage({
    viewerId: me.person.id,
    campaigns: mine.campaigns.map((c) => ({
      campaignId: c.campaign.id,
      reviewName: c.campaign.reviewName,
      dueAt: c.campaign.dueAt,
      pending: c.pending,
      total: c.total,
      items: c.items,
    })),
    accessNames: mine.accessNames,
    timezone: ctx.display.knownZone(userId),
  });
}

async function startFromSlack(call: SubcommandCall, reviewId: string | undefined): Promise<SlackMessage> {
  const { ctx, client, userId } = call;
  if (!reviewId) return textMessage('Usage: `/access review start <id>`, the id of a review in policies/reviews/.');
  const admin = await identify(ctx, client, userId);
  await assertAdmin(ctx.deps, admin);
  const review = findReview(ctx.deps, reviewId);
  // After the answer: reading a large population takes longer than Slack waits for one.
  void startReview(ctx.deps, { reviewId: review.id, by: { kind: 'admin', admin }, trigger: 'slack' })
    .then(async ({ campaign, reviewers }) => {
      ctx.jobs.kick();
      await call.refuse(
        `Started ${review.name} (campaign ${campaign.id}): ${campaign.populationCount} items for ${reviewers} reviewer${reviewers === 1 ? '' : 's'}, ` +
          `due ${campaign.dueAt}. Population hash ${campaign.populationHash}. Each reviewer gets their list by DM now.`,
      );
    })
    .catch(async (error: unknown) =>
      call.refuse(`${review.name} did not start: ${explain(ctx, error, `review start ${review.id}`)}`),
    );
  return textMessage(
    `Starting *${escapeMrkdwn(review.name)}*: reading who holds the access in scope now. You get a message here when every reviewer has their list.`,
  );
}
