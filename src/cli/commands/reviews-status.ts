import type { ReviewCampaign } from '../../domain/reviews/review-records.js';
import { RUBBER_STAMP_SECONDS } from '../../domain/reviews/review-summary.js';
import type { Deps } from '../../operations/context.js';
import { isAccessError } from '../../domain/errors.js';
import { buildReviewSummary } from '../../operations/reviews/review-summary.js';
import { countAll } from '../../operations/reviews/close-review.js';
import { CommandFailure, EXIT, UsageError, println, type Command, type CommandIo } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { table, withRuntime } from '../runtime-context.js';

export const reviewsStatus: Command = {
  name: 'reviews status',
  summary: 'Show access review campaigns, or one campaign with its progress per reviewer',
  usage: `Usage: access-bot reviews status [CAMPAIGN] [--all] [--json]

Without CAMPAIGN: the open campaigns and each review's latest one, newest first, with how many
items are decided and left. With --all: every campaign, without the counts (they read every item).
With CAMPAIGN: its counts (decided on time, kept, revoked, undecided, removals verified and
pending, items kept within ${RUBBER_STAMP_SECONDS} seconds of their first look), each reviewer's progress,
and the removals not verified yet.

Options:
  --all       every campaign, newest first (no counts)
  --json      one JSON document instead of tables
  -h, --help  show this help

Exit codes: 0 shown; 1 no such campaign; 2 usage or configuration error.`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      { json: { type: 'boolean' }, all: { type: 'boolean' } },
      true,
    );
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new UsageError('at most one campaign');
    if (values.all && positionals.length > 0) throw new UsageError('--all lists every campaign; give no CAMPAIGN');
    return withRuntime(io, async ({ deps }) => {
      if (positionals.length === 0 && values.all) {
        const campaigns = await deps.store.listReviewCampaigns({ limit: 1000 });
        if (values.json) {
          println(io.stdout, JSON.stringify(campaigns.map(campaignFields)));
          return EXIT.ok;
        }
        if (campaigns.length === 0) return noCampaignYet(io);
        println(
          io.stdout,
          table(
            ['campaign', 'review', 'status', 'started', 'due', 'closed'],
            campaigns.map((c) => [c.id, c.reviewId, c.status, c.startedAt, c.dueAt, c.closedAt ?? '']),
          ),
        );
        return EXIT.ok;
      }
      if (positionals.length === 0) {
        const campaigns = await currentCampaigns(deps);
        const rows = [];
        for (const c of campaigns) rows.push({ campaign: c, counts: await countAll(deps.store, c) });
        if (values.json) {
          println(
            io.stdout,
            JSON.stringify(rows.map(({ campaign, counts }) => ({ ...campaignFields(campaign), counts }))),
          );
          return EXIT.ok;
        }
        if (rows.length === 0) {
          // Campaigns of reviews no longer in the reviews folder are history too: --all lists them.
          if ((await deps.store.listReviewCampaigns({ limit: 1 })).length === 0) return noCampaignYet(io);
          println(
            io.stdout,
            'no open campaign, and no current review has had one (reviews status --all lists every one)',
          );
          return EXIT.ok;
        }
        println(
          io.stdout,
          table(
            ['campaign', 'review', 'status', 'started', 'due', 'items', 'decided', 'pending', 'undecided'],
            rows.map(({ campaign: c, counts: n }) => [
              c.id,
              c.reviewId,
              c.status,
              c.startedAt,
              c.dueAt,
              String(n.items),
              String(n.kept + n.revoked),
              String(n.pending),
              String(n.undecided),
            ]),
          ),
        );
        return EXIT.ok;
      }
      let summary;
      try {
        summary = await buildReviewSummary(deps, positionals[0]!);
      } catch (error) {
        if (isAccessError(error)) throw new CommandFailure(error.message);
        throw error;
      }
      const { campaign: c, counts: n } = summary;
      if (values.json) {
        println(
          io.stdout,
          JSON.stringify({
            campaign: c,
            counts: n,
            reviewers: summary.reviewers,
            deciders: summary.deciders,
            removals: summary.removals,
          }),
        );
        return EXIT.ok;
      }
      println(io.stdout, `${c.id}: ${c.reviewName} (${c.reviewId} version ${c.version.slice(0, 12)}), ${c.status}`);
      println(
        io.stdout,
        `started     ${c.startedAt} by ${c.startedBy}; due ${c.dueAt}${c.closedAt ? `; closed ${c.closedAt} by ${c.closedBy}` : ''}`,
      );
      println(io.stdout, `population  ${c.populationCount} items, hash ${c.populationHash}`);
      println(
        io.stdout,
        `decisions   ${n.decidedOnTime} decided on time: ${n.kept} kept, ${n.revoked} revoked; ${n.pending} pending; ${n.undecided} undecided`,
      );
      println(
        io.stdout,
        `removals    ${n.remediated} verified, ${n.remediationPending} pending, ${n.remediationFailed} failed`,
      );
      println(
        io.stdout,
        `quick keeps ${n.keptQuickly} kept within ${RUBBER_STAMP_SECONDS} s of the reviewer's first look`,
      );
      println(io.stdout);
      println(
        io.stdout,
        table(
          ['reviewer', 'email', 'items', 'decided', 'left'],
          summary.reviewers.map((r) => [r.name, r.email, String(r.assigned), String(r.decided), String(r.pending)]),
        ),
      );
      if (summary.deciders.some((d) => d.keptQuickly > 0)) {
        println(io.stdout);
        println(
          io.stdout,
          table(
            ['decided by', 'decided', 'kept', `kept < ${RUBBER_STAMP_SECONDS} s`],
            summary.deciders.map((d) => [d.email, String(d.decided), String(d.kept), String(d.keptQuickly)]),
          ),
        );
      }
      if (summary.removals.length) {
        println(io.stdout);
        println(
          io.stdout,
          table(
            ['holder', 'access', 'removal', 'detail'],
            summary.removals.map((r) => [r.holderEmail, r.access, r.status, r.detail ?? '']),
          ),
        );
        if (summary.removalsNotShown)
          println(io.stdout, `…and ${summary.removalsNotShown} more (export reviews --campaign ${c.id})`);
      }
      return EXIT.ok;
    });
  },
};

/**
 * The campaigns worth counting: every open one, and each review's latest (closed) one, newest first.
 * Older campaigns are history: `--all` lists them, `reviews status CAMPAIGN` counts one.
 */
async function currentCampaigns(deps: Pick<Deps, 'store' | 'reviews'>): Promise<ReviewCampaign[]> {
  const open = await deps.store.listReviewCampaigns({ status: ['open'], limit: 1000 });
  const latest = await Promise.all(
    deps.reviews
      .all()
      .map(async (review) => (await deps.store.listReviewCampaigns({ reviewId: review.id, limit: 1 }))[0]),
  );
  const byId = new Map<string, ReviewCampaign>();
  for (const campaign of [...open, ...latest]) if (campaign) byId.set(campaign.id, campaign);
  return [...byId.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
}

function campaignFields(c: ReviewCampaign) {
  return {
    id: c.id,
    review: c.reviewId,
    status: c.status,
    startedAt: c.startedAt,
    dueAt: c.dueAt,
    closedAt: c.closedAt,
  };
}

function noCampaignYet(io: CommandIo): number {
  println(io.stdout, 'no access review campaign yet (start one with: access-bot reviews start ID)');
  return EXIT.ok;
}
