import { sweep } from '../../operations/sweep.js';
import { recordPolicyVersions } from '../../operations/record-policy-versions.js';
import { EXIT, println, type Command } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { withRuntime } from '../runtime-context.js';

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'Run one pass of due expiries, approval timeouts, reminders and provisioning jobs',
  usage: `Usage: access-bot sweep

One pass of what the running bot does every minute: pending requests past the approval timeout
expire, expired grants are revoked (through their stored provisioning snapshot), reminders are
queued, access reviews past their due time close, and due provisioning, revocation and review
removal jobs run (with their retries). Messages owed to people
are left for the running bot to send through Slack.

Exit codes: 0 the pass ran (failed jobs are retried later and reported); 2 configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, {});
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    return withRuntime(io, async ({ deps }) => {
      await recordPolicyVersions(deps);
      const summary = await sweep(deps, {
        worker: `cli-${process.pid}`,
        kinds: ['provision', 'revoke', 'reviewRemoval'],
      });
      const pendingMessages = await deps.store.countJobs(['pending'], ['notify']);
      println(io.stdout, `expired requests: ${summary.expiredRequests}`);
      println(io.stdout, `expired grants (revocation started): ${summary.expiredGrants}`);
      println(io.stdout, `reminders queued: ${summary.reminders}`);
      println(
        io.stdout,
        `steps escalated: ${summary.escalatedSteps}; approver reminders queued: ${summary.approverReminders}`,
      );
      println(
        io.stdout,
        `delegations ended: ${summary.endedDelegations}; unreviewed break-glass alerts queued: ${summary.breakGlassAlerts}`,
      );
      println(
        io.stdout,
        `access reviews closed at their due time: ${summary.reviewsClosed}; review reminders queued: ${summary.reviewReminders}`,
      );
      println(
        io.stdout,
        `jobs: ${summary.jobs.done} done, ${summary.jobs.retried} to retry, ${summary.jobs.dead} given up`,
      );
      println(io.stdout, `messages waiting for the bot to send: ${pendingMessages}`);
      return EXIT.ok;
    });
  },
};
