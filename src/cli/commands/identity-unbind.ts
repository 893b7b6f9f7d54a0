import { isAccessError } from '../../domain/errors.js';
import { identifyOnCommandLine, unbindIdentity } from '../../operations/identify-person.js';
import { CommandFailure, commandLineUser, EXIT, UsageError, println, type Command } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { withRuntime } from '../runtime-context.js';

export const identityUnbind: Command = {
  name: 'identity unbind',
  summary: "Remove a Slack user's match to a directory person (admins; audited)",
  usage: `Usage: access-bot identity unbind --slack-user ID --admin EMAIL --reason TEXT

The bot matches a Slack user to a directory person by email the first time they act and keeps
that pair. When it refuses someone (a second Slack account claiming the same person, or an email
that no longer matches), an admin resolves it by removing the pair; the next action matches again.

Options:
  --slack-user ID  the Slack user id (U...)
  --admin EMAIL    you: a member of the admin group
  --reason TEXT    why, kept in the audit log

Exit codes: 0 unbound; 1 refused (not an admin, no such binding); 2 usage or configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      'slack-user': { type: 'string' },
      admin: { type: 'string' },
      reason: { type: 'string' },
    });
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    const missing = (['slack-user', 'admin', 'reason'] as const).filter((k) => !values[k]);
    if (missing.length) throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(', ')}`);
    return withRuntime(io, async ({ deps }) => {
      try {
        const admin = await identifyOnCommandLine(deps, values.admin!, commandLineUser());
        await unbindIdentity(deps, { admin, slackUserId: values['slack-user']!, reason: values.reason! });
      } catch (error) {
        if (isAccessError(error)) throw new CommandFailure(error.message);
        throw error;
      }
      println(io.stdout, `unbound ${values['slack-user']}; they will be matched by email on their next action`);
      return EXIT.ok;
    });
  },
};
