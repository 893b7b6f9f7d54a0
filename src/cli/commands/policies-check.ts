import { checkPoliciesAgainstDirectory } from '../../adapters/policies/check-against-directory.js';
import { formatDuration } from '../../domain/duration.js';
import type { Role } from '../../domain/policy.js';
import { roleRef } from '../../domain/reviews/review-definition.js';
import { reviewVersion } from '../../domain/reviews/review-version.js';
import { EXIT, println, type Command } from '../command.js';
import { openDirectory, readPolicies } from '../context.js';
import { readConfig } from '../read-config.js';
import { parseCommandArgs } from '../parse-args.js';

export const policiesCheck: Command = {
  name: 'policies check',
  summary: 'Validate the policy folder and check every group and person it names against the directory',
  usage: `Usage: access-bot policies check [DIR] [--directory FILE] [--strict]

Loads every policy in DIR (default: POLICIES_DIR, else ./policies) and its settings.yml, exactly as
the bot does at start-up, then checks the groups and people they name against the directory
(Okta when OKTA_ORG_URL is set, else the YAML directory in DIRECTORY_FILE).

Prints each problem as "file:line:col path: message", or a summary of the apps and roles with each
role's policy version.

A webhook's secret_env that is not set in this environment is a warning (a policy repository's CI
has no production secrets); a production start refuses it.

Options:
  --directory FILE   use this YAML directory file instead of DIRECTORY_FILE
  --strict           an unset secret_env is an error, as at a production start
  -h, --help         show this help

Exit codes: 0 no problems; 1 problems found (policies or directory file invalid);
            2 usage or configuration error.`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      { directory: { type: 'string' }, strict: { type: 'boolean' } },
      true,
    );
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (positionals.length > 1) {
      println(io.stderr, `expected at most one folder, got ${positionals.length}`);
      return EXIT.usage;
    }
    const config = readConfig(io);
    const dir = positionals[0] ?? config.policiesDir;
    const loaded = await readPolicies(dir, io, { strict: values.strict === true });
    const directory = await openDirectory(
      config,
      loaded.settings,
      values.directory === undefined ? {} : { file: values.directory },
    );
    const { problems, unreachable } = await checkPoliciesAgainstDirectory(loaded, directory);

    for (const p of problems) println(io.stderr, `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);
    if (unreachable)
      println(io.stderr, `the directory could not be reached, so groups and people were not checked: ${unreachable}`);
    if (problems.length > 0 || unreachable) {
      if (problems.length > 0)
        println(io.stderr, `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}`);
      return EXIT.problem;
    }

    const entries = loaded.catalog.entries();
    println(
      io.stdout,
      `OK: ${loaded.policies.length} app${loaded.policies.length === 1 ? '' : 's'}, ${entries.length} role${entries.length === 1 ? '' : 's'} in ${dir} (settings: ${loaded.settingsFile}; directory: ${directory.kind})`,
    );
    const rows = entries.map((e) => [
      `${e.app.app}/${e.role.id}`,
      e.role.policy,
      e.version.slice(0, 12),
      describeRole(e.role),
    ]);
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
    for (const row of rows)
      println(
        io.stdout,
        `  ${row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ')}`.trimEnd(),
      );
    const reviews = loaded.reviews.all();
    if (reviews.length > 0) println(io.stdout, `${reviews.length} access review${reviews.length === 1 ? '' : 's'}:`);
    for (const review of reviews) {
      const scope = [...review.scope.roles.map(roleRef), ...review.scope.groups.map((g) => `group ${g}`)].join(', ');
      const when = review.schedule ? `schedule "${review.schedule}"` : 'started by hand';
      println(
        io.stdout,
        `  ${review.id}  ${reviewVersion(review).slice(0, 12)}  ${scope}; due ${formatDuration(review.dueSeconds)}, ${when}`,
      );
    }
    return EXIT.ok;
  },
};

function describeRole(role: Role): string {
  const approval =
    role.approval === 'auto'
      ? 'auto-approved'
      : `${role.approval.length}-step chain${role.autoApprove ? ' (auto_approve.when)' : ''}`;
  return [role.sensitive ? 'sensitive' : '', approval, `provision: ${role.provision.method}`]
    .filter(Boolean)
    .join(', ');
}
