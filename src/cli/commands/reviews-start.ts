import { isAccessError } from '../../domain/errors.js';
import { startReview } from '../../operations/reviews/start-review.js';
import { CommandFailure, EXIT, UsageError, println, type Command } from '../command.js';
import { commandLineReviewActor } from './review-actor.js';
import { parseCommandArgs } from '../parse-args.js';
import { withRuntime } from '../runtime-context.js';

export const reviewsStart: Command = {
  name: 'reviews start',
  summary: 'Start an access review now: freeze who holds the access in scope and give each item to its reviewer',
  usage: `Usage: access-bot reviews start ID [--admin EMAIL]

Starts a campaign of the review ID (policies/reviews/*.yml): reads who holds the access in scope
now (active grants of its roles from the database; every member of its groups from the directory,
all pages), makes one item per holder and access, gives each to its reviewer, and records the
population's count and hash in a "review.started" audit event. Each reviewer's list is a message
the running bot sends them in Slack (within a minute, at its next sweep).

A review has at most one open campaign: close it first (reviews close CAMPAIGN).

Options:
  --admin EMAIL  start as this admin (checked against the admin group and logged as the actor);
                 without it the actor is logged as system:cli with the operating-system user
  -h, --help     show this help

Exit codes: 0 started; 1 refused (unknown review, one already open, not an admin);
            2 usage or configuration error.`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { admin: { type: 'string' } }, true);
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError('name one review to start (its id, as in policies/reviews/)');
    return withRuntime(io, async ({ deps }) => {
      try {
        const by = await commandLineReviewActor(deps, values.admin);
        const { campaign, reviewers } = await startReview(deps, {
          reviewId: positionals[0]!,
          by,
          trigger: 'command_line',
        });
        println(io.stdout, `started ${campaign.reviewId}: campaign ${campaign.id}`);
        println(
          io.stdout,
          `population  ${campaign.populationCount} item${campaign.populationCount === 1 ? '' : 's'}, hash ${campaign.populationHash}`,
        );
        println(io.stdout, `reviewers   ${reviewers} (each gets their list in Slack from the running bot)`);
        println(io.stdout, `due         ${campaign.dueAt}`);
        return EXIT.ok;
      } catch (error) {
        if (isAccessError(error)) throw new CommandFailure(`not started: ${error.message}`);
        throw error;
      }
    });
  },
};
