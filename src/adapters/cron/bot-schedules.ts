/**
 * The bot's three schedules from `policies/settings.yml`, wired to their operations:
 * - `sweep` (sweep_schedule): approval timeouts, ended delegations, escalations, approver reminders,
 *   expiries, reminders, unreviewed break-glass alerts, access reviews due, due jobs, overdue
 *   revocations, housekeeping (records older than `retention`);
 * - `reconcile` (reconcile_schedule): offboarding, then drift against each provisioned group;
 * - `digest` (digest_schedule): the weekly security digest, queued as a job keyed by its slot (so it
 *   is posted once, retried when Slack fails, with the week's requests CSV: `publishDigest`);
 * - `review:<id>` for each access review with a `schedule`: a campaign starts (`startScheduledReview`).
 */
import type { Deps } from '../../operations/context.js';
import { queueDigest } from '../../operations/queue-digest.js';
import { reconcile, type OffboardingSource } from '../../operations/reconcile.js';
import type { JobRunnerOptions } from '../../operations/run-jobs.js';
import { sweep } from '../../operations/sweep.js';
import { startScheduledReview } from '../../operations/reviews/start-review.js';
import { CronScheduler, type PassContext, type Schedule, type SchedulerOptions } from './scheduler.js';

export interface BotScheduleHooks {
  /** Job runner settings for the sweep; the worker id defaults to the scheduler's lease holder. */
  jobs?: Omit<JobRunnerOptions, 'worker' | 'signal'> & { worker?: string };
  /** More offboarding sources for reconcile (Okta's System Log reader). */
  offboardingSources?: readonly OffboardingSource[];
  /** A cheaper complete status check to use instead of one directory read per holder. */
  statusCheck?: OffboardingSource;
}

/** The dependencies with the pass's own handle on the store (`PassContext.store`). */
function ownStore(deps: Deps, pass: PassContext): Deps {
  return { ...deps, store: pass.store };
}

function botSchedules(deps: Deps, hooks: BotScheduleHooks = {}): Schedule[] {
  return [
    {
      name: 'sweep',
      expression: deps.settings.sweepSchedule,
      async run(pass) {
        const summary = await sweep(ownStore(deps, pass), { worker: pass.holder, ...hooks.jobs, signal: pass.signal });
        const pruned = summary.pruned.jobs + summary.pruned.messages;
        const busy =
          summary.expiredGrants ||
          summary.expiredRequests ||
          summary.reminders ||
          summary.jobs.ran ||
          summary.overdueRevocations ||
          summary.escalatedSteps ||
          summary.approverReminders ||
          summary.endedDelegations ||
          summary.breakGlassAlerts ||
          summary.reviewsClosed ||
          summary.reviewReminders ||
          pruned;
        if (busy) deps.logger.info('sweep', { ...summary });
        return summary;
      },
    },
    {
      name: 'reconcile',
      expression: deps.settings.reconcileSchedule,
      run: (pass) =>
        reconcile(ownStore(deps, pass), {
          offboardingSources: hooks.offboardingSources,
          statusCheck: hooks.statusCheck,
          signal: pass.signal,
        }),
    },
    {
      name: 'digest',
      expression: deps.settings.digestSchedule,
      async run(pass) {
        const at = deps.clock.now().toISOString();
        const job = await queueDigest(ownStore(deps, pass), {
          at,
          key: pass.slot ? pass.slot.toISOString() : `run:${at}`,
        });
        return { queued: job };
      },
    },
    // Each access review with a schedule: a campaign per slot (the slot claim, and the store's
    // one-campaign-per-slot rule, keep two processes from starting it twice).
    ...deps.reviews.all().flatMap((review): Schedule[] =>
      review.schedule === null
        ? []
        : [
            {
              name: `review:${review.id}`,
              expression: review.schedule,
              async run(pass) {
                const at = deps.clock.now().toISOString();
                const started = await startScheduledReview(
                  ownStore(deps, pass),
                  review.id,
                  pass.slot ? pass.slot.toISOString() : `run:${at}`,
                );
                if (started)
                  deps.logger.info('access review started', {
                    review: review.id,
                    campaign: started.campaign.id,
                    items: started.campaign.populationCount,
                  });
                return started ? { campaign: started.campaign.id } : { skipped: true };
              },
            },
          ],
    ),
  ];
}

/** The scheduler for the bot's schedules, its leases in the bot's database, in `settings.timezone`. */
export function createBotScheduler(
  deps: Deps,
  hooks: BotScheduleHooks = {},
  options: Partial<SchedulerOptions> = {},
): CronScheduler {
  return new CronScheduler(botSchedules(deps, hooks), {
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    timezone: deps.settings.timezone,
    ...options,
  });
}
