import { isAccessError } from '../../domain/errors.js';
import { parseDuration } from '../../domain/duration.js';
import { explainText } from '../../domain/explain.js';
import { explainAccess } from '../../operations/explain-access.js';
import { findEntry } from '../../operations/policy-lookup.js';
import { CommandFailure, EXIT, UsageError, println, type Command } from '../command.js';
import { openDirectory, readPolicies } from '../context.js';
import { readConfig } from '../read-config.js';
import { parseCommandArgs } from '../parse-args.js';

export const policiesExplain: Command = {
  name: 'policies explain',
  summary: 'Show how a request would be decided: eligibility, duration, auto-approval and the approval chain',
  usage: `Usage: access-bot policies explain --user EMAIL --app APP --role ROLE [options]

Evaluates a request as the bot would right now, against the live directory, and prints every
check with the fact that decided it: eligibility, duration, justification, auto-approval, and
each approval step with who would be asked, who is excluded and why, and any admin fallback.
Nothing is recorded and nobody is notified.

Options:
  --user EMAIL           the requester (email or login in the directory)
  --app APP              the application slug (the policy's "app:")
  --role ROLE            the role id
  --duration D           requested duration, e.g. 30m, 4h, 7d (default: the role's default)
  --justification TEXT   the justification the requester would give
  --policies DIR         policy folder (default: POLICIES_DIR, else ./policies)
  --directory FILE       YAML directory file (default: DIRECTORY_FILE)
  --at ISO-TIME          evaluate as of this time (default: now)
  --json                 print the evaluation as JSON instead of text
  -h, --help             show this help

Exit codes: 0 the explanation was printed, whatever the outcome (not eligible and needs approval
            alike); 1 unknown user, app or role, or invalid policies;
            2 usage error (missing or malformed option) or configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      user: { type: 'string' },
      app: { type: 'string' },
      role: { type: 'string' },
      duration: { type: 'string' },
      justification: { type: 'string' },
      policies: { type: 'string' },
      directory: { type: 'string' },
      at: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    const missing = (['user', 'app', 'role'] as const).filter((k) => !values[k]);
    if (missing.length > 0) throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(', ')}`);
    let durationSeconds: number | undefined;
    if (values.duration !== undefined) {
      const parsed = parseDuration(values.duration);
      if (parsed === null)
        throw new UsageError(
          `--duration ${values.duration} is not a duration (an integer and a unit s, m, h, d or w: 30m, 4h, 7d)`,
        );
      durationSeconds = parsed;
    }
    const now = values.at === undefined ? new Date() : new Date(values.at);
    if (Number.isNaN(now.getTime())) throw new UsageError(`--at ${values.at} is not an ISO 8601 time`);

    const config = readConfig(io);
    const loaded = await readPolicies(values.policies ?? config.policiesDir, io);
    let evaluation;
    try {
      // The directory is opened only for a known app and role: a typo costs no Okta call.
      findEntry(loaded, values.app!, values.role!);
      const directory = await openDirectory(
        config,
        loaded.settings,
        values.directory === undefined ? {} : { file: values.directory },
      );
      const requester = async () => {
        const person = await directory.findPerson(values.user!);
        if (!person) throw new CommandFailure(`${values.user} is not in the directory (${directory.kind})`);
        return person;
      };
      ({ evaluation } = await explainAccess(
        { catalog: loaded.catalog, settings: loaded.settings, directory, clock: { now: () => now } },
        {
          app: values.app!,
          role: values.role!,
          requester,
          durationSeconds,
          justification: values.justification,
          at: now,
        },
      ));
    } catch (error) {
      if (isAccessError(error, 'unknown_role') || isAccessError(error, 'identity_ambiguous'))
        throw new CommandFailure(error.message);
      throw error;
    }
    println(io.stdout, values.json ? JSON.stringify(evaluation, null, 2) : explainText(evaluation));
    return EXIT.ok;
  },
};
