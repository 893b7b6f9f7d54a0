import { EXIT, println, type Command } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { personIdFor, table, withRuntime } from '../runtime-context.js';
import { OPEN_GRANT_STATUSES } from '../../domain/records.js';

export const grantsList: Command = {
  name: 'grants list',
  summary: 'List grants (who holds or held which role), newest first',
  usage: `Usage: access-bot grants list [--active] [--user EMAIL] [--limit N] [--json]

Options:
  --active      only grants being provisioned, active, or being revoked
  --user EMAIL  only this holder
  --limit N     at most N rows (default 100)
  --json        one JSON object per line instead of a table

Exit codes: 0 listed; 1 unknown user; 2 usage or configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      active: { type: 'boolean' },
      user: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    const limit = Number(values.limit ?? 100);
    return withRuntime(io, async ({ deps }) => {
      const holderId = await personIdFor(deps.directory, values.user);
      const grants = await deps.store.listGrants({
        status: values.active ? [...OPEN_GRANT_STATUSES] : undefined,
        holderId,
        limit,
      });
      if (values.json) {
        for (const g of grants) println(io.stdout, JSON.stringify(g));
        return EXIT.ok;
      }
      println(
        io.stdout,
        table(
          ['id', 'holder', 'app/role', 'status', 'since', 'until', 'ended', 'reason', 'method'],
          grants.map((g) => [
            g.id,
            g.holder.email,
            `${g.app}/${g.role}`,
            g.status,
            g.activatedAt ?? '',
            g.expiresAt ?? '',
            g.revokedAt ?? '',
            g.revocationReason ?? '',
            g.snapshot.provision.method,
          ]),
        ),
      );
      return EXIT.ok;
    });
  },
};
