import type { RequestStatus } from '../../domain/records.js';
import { describeDuration } from '../../domain/duration.js';
import { EXIT, UsageError, println, type Command } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { personIdFor, table, withRuntime } from '../runtime-context.js';

const STATUSES: RequestStatus[] = ['pending_approval', 'approved', 'denied', 'cancelled', 'approval_expired'];

export const requestsList: Command = {
  name: 'requests list',
  summary: 'List access requests, newest first',
  usage: `Usage: access-bot requests list [--status STATUS] [--user EMAIL] [--limit N] [--json]

Options:
  --status STATUS  one of ${STATUSES.join(', ')}
  --user EMAIL     only this requester
  --limit N        at most N rows (default 100)
  --json           one JSON object per line instead of a table

Exit codes: 0 listed; 1 unknown user; 2 usage or configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      status: { type: 'string' },
      user: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (values.status && !STATUSES.includes(values.status as RequestStatus))
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
    const limit = Number(values.limit ?? 100);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
    return withRuntime(io, async ({ deps }) => {
      const requesterId = await personIdFor(deps.directory, values.user);
      const requests = await deps.store.listRequests({
        status: values.status ? [values.status as RequestStatus] : undefined,
        requesterId,
        limit,
      });
      if (values.json) {
        for (const r of requests) println(io.stdout, JSON.stringify(r));
        return EXIT.ok;
      }
      println(
        io.stdout,
        table(
          ['id', 'created', 'requester', 'app/role', 'duration', 'status', 'step', 'policy'],
          requests.map((r) => [
            r.id,
            r.createdAt,
            r.requester.email,
            `${r.app}/${r.role}${r.kind === 'extension' ? ' (extension)' : ''}`,
            describeDuration(r.grantedSeconds ?? r.requestedSeconds),
            r.status,
            r.currentStep >= 0 ? `${r.currentStep + 1}/${r.stepCount}` : '',
            `${r.policyName}@${r.policyVersion.slice(0, 12)}`,
          ]),
        ),
      );
      return EXIT.ok;
    });
  },
};
