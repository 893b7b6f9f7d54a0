import { digestBlocks, shortDate } from '../../../blocks/digest.js';
import type { Digest, DigestGrantLine } from '../../domain/digest.js';
import { buildDigest } from '../../operations/build-digest.js';
import { EXIT, UsageError, println, type Command } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { withRuntime } from '../runtime-context.js';

export const digestCommand: Command = {
  name: 'digest',
  summary: 'Print the weekly security digest (who holds sensitive access, the week in access, drift)',
  usage: `Usage: access-bot digest --dry-run [--at TIME] [--limit N] [--json | --blocks]

The weekly digest the bot posts to the security channel: who holds sensitive roles now (with
since, until and who approved), what was granted, extended and revoked in the seven days before
TIME, failures and overdue revocations, people who extended the same access three times or more,
drift (access granted or removed outside the bot), and the audit log's head hash.

Posting it to Slack is the running bot's job (and /access digest); here it is only printed.

Options:
  --dry-run   print the digest instead of posting it (required)
  --at TIME   compute it as of this ISO 8601 time (default: now)
  --limit N   lines per list in the text form (default 25)
  --json      the digest as JSON data
  --blocks    the Slack message (text and Block Kit) as JSON

Exit codes: 0 printed; 2 usage or configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      'dry-run': { type: 'boolean' },
      at: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      blocks: { type: 'boolean' },
    });
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (!values['dry-run'])
      throw new UsageError(
        'only --dry-run is supported here: the running bot posts the digest to Slack (or use /access digest)',
      );
    if (values.json && values.blocks) throw new UsageError('--json and --blocks cannot be combined');
    const at = values.at === undefined ? undefined : new Date(values.at);
    if (at && Number.isNaN(at.getTime())) throw new UsageError(`--at must be an ISO 8601 time, got '${values.at}'`);
    const limit = values.limit === undefined ? 25 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 0)
      throw new UsageError(`--limit must be a whole number, got '${values.limit}'`);
    return withRuntime(io, async ({ deps }) => {
      const digest = await buildDigest(deps, at ?? deps.clock.now());
      if (values.json) println(io.stdout, JSON.stringify(digest, null, 2));
      else if (values.blocks) println(io.stdout, JSON.stringify(digestBlocks(digest), null, 2));
      else println(io.stdout, digestText(digest, limit));
      return EXIT.ok;
    });
  },
};

/** The digest as plain text for a terminal: every section, each list cut at `limit` lines. */
export function digestText(digest: Digest, limit = 25): string {
  const tz = digest.timezone;
  const when = (iso: string | null) => (iso ? shortDate(iso, tz) : 'no end');
  const g = (l: DigestGrantLine) => `${l.person.name} <${l.person.email}>  ${l.appName} ${l.roleName}`;
  const out: string[] = [];
  const list = (title: string, lines: string[]) => {
    out.push('', `${title} (${lines.length})`);
    if (lines.length === 0) out.push('  none');
    for (const line of lines.slice(0, limit)) out.push(`  - ${line}`);
    if (lines.length > limit) out.push(`  ... and ${lines.length - limit} more`);
  };
  out.push(`Weekly access digest: ${shortDate(digest.periodStart, tz)} to ${shortDate(digest.periodEnd, tz)} (${tz})`);
  const reasons = Object.entries(digest.revokedByReason)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const failures =
    digest.failures.provisioningFailed.length +
    digest.failures.revocationFailed.length +
    digest.failures.messagesGivenUp;
  out.push(
    `  sensitive access now: ${digest.sensitiveHolders.length}; granted ${digest.granted.length}, extended ${digest.extended.length}, revoked ${digest.revoked.length}${reasons ? ` (${reasons})` : ''}`,
    `  failures ${failures}; revocations overdue ${digest.overdueRevocations.length}; drift: ${digest.drift.detected.length} new, ${digest.drift.openNow} open, ${digest.drift.removedExternally.length} removed outside the bot`,
  );
  list(
    'Revocations overdue',
    digest.overdueRevocations.map(
      (o) =>
        `${g(o)}  revoking since ${when(o.startedAt)} (${o.detail ?? ''}): ${o.why}${o.lastError ? `; last error: ${o.lastError}` : ''}`,
    ),
  );
  list(
    'Sensitive access now',
    digest.sensitiveHolders.map(
      (h) =>
        `${g(h)}  since ${when(h.since)} until ${when(h.until)}; ${h.approvedBy.length ? `approved by ${h.approvedBy.join(', ')}` : 'approved automatically'}`,
    ),
  );
  list(
    'Granted',
    digest.granted.map((l) => `${g(l)}  ${when(l.at)}`),
  );
  list(
    'Extended',
    digest.extended.map((l) => `${g(l)}  ${when(l.at)} ${l.detail ?? ''}`.trimEnd()),
  );
  list(
    'Revoked',
    digest.revoked.map((l) => `${g(l)}  ${when(l.at)} ${l.detail ?? ''}`.trimEnd()),
  );
  list(
    'Provisioning failed',
    digest.failures.provisioningFailed.map((l) => `${g(l)}  ${when(l.at)}: ${l.detail ?? ''}`),
  );
  list(
    'Revocation attempts failed',
    digest.failures.revocationFailed.map((l) => `${g(l)}  ${l.attempts}x, last: ${l.detail ?? ''}`),
  );
  if (digest.failures.messagesGivenUp) out.push(`  messages given up: ${digest.failures.messagesGivenUp}`);
  list(
    `Same access extended 3+ times in ${digest.repeatedExtensionWindowDays} days`,
    digest.repeatedExtensions.map(
      (r) => `${r.person.name} <${r.person.email}>  ${r.appName} ${r.roleName}: ${r.count} extensions`,
    ),
  );
  list(
    'Drift: granted outside the bot',
    digest.drift.detected.map((d) => `${d.person.email} in ${d.group}  found ${when(d.at)}`),
  );
  list(
    'Drift: removed outside the bot',
    digest.drift.removedExternally.map((l) => `${g(l)}  ${when(l.at)}`),
  );
  out.push('', `Audit log head: ${digest.auditHead.hash} (event ${digest.auditHead.seq})`);
  return out.join('\n');
}
