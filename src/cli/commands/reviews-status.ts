import { RUBBER_STAMP_SECONDS } from '../../domain/reviews/review-summary.js';
import { isAccessError } from '../../domain/errors.js';
import { buildReviewSummary } from '../../operations/reviews/review-summary.js';
import { countAll } from '../../operations/reviews/close-review.js';
import { CommandFailure, EXIT, UsageError, println, type Command } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { table, withRuntime } from '../runtime-context.js';

export const reviewsStatus: Command = {
  name: 'reviews status',
  summary: 'Show access review campaigns, or one campaign with its progress per reviewer',
  usage: `Usage: access-bot reviews status [CAMPAIGN] [--json]

Without CAMPAIGN: every campaign, newest first, with how many items are decided and left.
With CAMPAIGN: its counts (decided on time, kept, revoked, undecided, removals verified and
pending, items kept within ${RUBBER_STAMP_SECONDS} seconds of their first look), each reviewer's progress,
and the removals not verified yet.

Options:
  --json      one JSON document instead of tables
  -h, --help  show this help

Exit codes: 0 shown; 1 no such campaign; 2 usage or configuration error.`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, true);
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new UsageError('at most one campaign');
    return withRuntime(io, async ({ deps }) => {
      if (positionals.length === 0) {
        const campaigns = await deps.store.listReviewCampaigns({ limit: 1000 });
        const rows = [];
        for (const c of campaigns) rows.push({ campaign: c, counts: await countAll(deps.store, c) });
        if (values.json) {
          println(
            io.stdout,
            JSON.stringify(
              rows.map(({ campaign: c, counts }) => ({
                id: c.id,
                review: c.reviewId,
                status: c.status,
                startedAt: c.startedAt,
                dueAt: c.dueAt,
                closedAt: c.closedAt,
                counts,
              })),
            ),
          );
          return EXIT.ok;
        }
        if (rows.length === 0) {
          println(io.stdout, 'no access review campaign yet (start one with: access-bot reviews start ID)');
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
