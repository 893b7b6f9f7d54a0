import { isAccessError } from '../../domain/errors.js';
import { closeReview } from '../../operations/reviews/close-review.js';
import { runDueJobs } from '../../operations/run-jobs.js';
import { CommandFailure, EXIT, UsageError, println, type Command } from '../command.js';
import { commandLineReviewActor } from './review-actor.js';
import { parseCommandArgs } from '../parse-args.js';
import { withRuntime } from '../runtime-context.js';

export const reviewsClose: Command = {
  name: 'reviews close',
  summary: 'Close an access review campaign now: undecided items are kept or revoked as the review says',
  usage: `Usage: access-bot reviews close CAMPAIGN [--admin EMAIL]

Closes the campaign before its due time (the bot closes it at the due time by itself): items nobody
decided become "undecided" and are kept or revoked as the review's "undecided" key says, the rules
are reviewed (each sensitive role's eligibility and approver groups with their members now), a
"review.closed" audit event records the counts, and the running bot posts the summary with the
evidence CSV to the security channel. Clicks on the reviewers' lists are refused from then on.
Revocations the close starts run here at once, as in "sweep".

Options:
  --admin EMAIL  close as this admin (checked against the admin group and logged as the actor)
  -h, --help     show this help

Exit codes: 0 closed; 1 refused (no such campaign, already closed, not an admin);
            2 usage or configuration error.`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { admin: { type: 'string' } }, true);
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError('name one campaign to close (rvc_…; see reviews status)');
    return withRuntime(io, async ({ deps }) => {
      try {
        const by = await commandLineReviewActor(deps, values.admin);
        const { campaign, counts } = await closeReview(deps, { campaignId: positionals[0]!, by });
        const jobs = await runDueJobs(deps, { worker: `cli-${process.pid}`, kinds: ['revoke', 'reviewRemoval'] });
        println(io.stdout, `closed ${campaign.id} (${campaign.reviewId}) at ${campaign.closedAt}`);
        println(
          io.stdout,
          `items       ${counts.items}: ${counts.decidedOnTime} decided on time, ${counts.kept} kept, ${counts.revoked} revoked, ${counts.undecided} undecided`,
        );
        println(
          io.stdout,
          `removals    ${counts.remediated} verified, ${counts.remediationPending} pending, ${counts.remediationFailed} failed (${jobs.done} run now)`,
        );
        println(io.stdout, `summary     posted to the security channel by the running bot, with the evidence CSV`);
        return EXIT.ok;
      } catch (error) {
        if (isAccessError(error)) throw new CommandFailure(`not closed: ${error.message}`);
        throw error;
      }
    });
  },
};
