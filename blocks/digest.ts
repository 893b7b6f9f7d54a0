/**
 * The weekly security digest as one Slack message. Fixed layout, so it stays within Slack's 50
 * blocks and its total block text (`msg_blocks_too_long`, about 12,000 characters) however large
 * the company: the counts first, then short lists (the most urgent first), the lists sharing one
 * text budget, each cut to its top lines with "and N more". Every list in full travels in the
 * digest CSV beside it (`digestTable`), with the week's `requests` CSV, attached by the adapter.
 *
 * Names, emails, groups and provider errors are escaped; people are named, never mentioned (a
 * digest must not ping five thousand people).
 */
import type { KnownBlock, SectionBlock } from '@slack/web-api';
import {
  REPEATED_EXTENSION_THRESHOLD,
  type Digest,
  type DigestBreakGlass,
  type DigestGrantLine,
  type DigestHolding,
} from '../src/domain/digest.js';
import { escapeMrkdwn } from './escape.js';
import { LIMITS, blockText, fitTextBudget, truncate, truncateMrkdwn } from './limits.js';
import { section } from './block-parts.js';

export interface DigestMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Lines per list in the message; the rest is "and N more" (and in the CSV). */
const DIGEST_LIST_LINES = 10;
/** One list line at most this long, so a long error cannot crowd out the others. */
const LINE_CHARS = 240;

/** A list waiting for its share of the message's text budget. */
interface ListSpec {
  title: string;
  lines: string[];
  summary?: string;
}

function breakGlassSummary(digest: Digest): string {
  if (!digest.breakGlass.length) return 'none';
  const pending = digest.breakGlass.filter((b) => b.review === 'pending').length;
  const notJustified = digest.breakGlass.filter((b) => b.review === 'not_justified').length;
  const parts = [
    pending ? `:warning: ${pending} not reviewed` : '',
    notJustified ? `${notJustified} not justified` : '',
  ].filter(Boolean);
  return `${digest.breakGlass.length}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

function reviewWords(b: DigestBreakGlass, when: (iso: string | null) => string): string {
  switch (b.review) {
    case 'pending':
      return b.overdue ? `NOT REVIEWED, was due ${when(b.dueAt)}` : `not reviewed yet (due ${when(b.dueAt)})`;
    case 'justified':
      return `justified (${b.reviewer ?? 'a reviewer'}, ${when(b.reviewedAt)})`;
    case 'not_justified':
      return `not justified (${b.reviewer ?? 'a reviewer'}, ${when(b.reviewedAt)})`;
  }
}

export function digestBlocks(digest: Digest): DigestMessage {
  const tz = digest.timezone;
  const when = (iso: string | null) => (iso ? shortDate(iso, tz) : 'no end');
  const blocks: KnownBlock[] = [];
  const failures =
    digest.failures.provisioningFailed.length +
    digest.failures.revocationFailed.length +
    digest.failures.messagesGivenUp;

  blocks.push({ type: 'header', text: { type: 'plain_text', text: 'Weekly access digest' } });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncateMrkdwn(
          `${escapeMrkdwn(shortDate(digest.periodStart, tz))} – ${escapeMrkdwn(shortDate(digest.periodEnd, tz))} (${escapeMrkdwn(tz)})`,
          LIMITS.contextText,
        ),
      },
    ],
  });
  blocks.push({
    type: 'section',
    fields: [
      field('Sensitive access now', count(digest.sensitiveHolders.length, 'grant')),
      field('Granted this week', count(digest.granted.length, 'grant')),
      field('Extended this week', count(digest.extended.length, 'extension')),
      field('Revoked this week', `${count(digest.revoked.length, 'grant')}${reasonSummary(digest.revokedByReason)}`),
      field(
        'Revocations overdue',
        digest.overdueRevocations.length ? `:warning: ${digest.overdueRevocations.length}` : 'none',
      ),
      field('Failures', failures ? String(failures) : 'none'),
      field(
        'Repeated extensions',
        digest.repeatedExtensions.length ? String(digest.repeatedExtensions.length) : 'none',
      ),
      field('Break-glass', breakGlassSummary(digest)),
      field(
        'Drift',
        `${digest.drift.detected.length} new, ${digest.drift.openNow} open, ${digest.drift.removedExternally.length} removed outside the bot`,
      ),
    ],
  });
  blocks.push({ type: 'divider' });

  const lists: ListSpec[] = [];
  if (digest.overdueRevocations.length) {
    lists.push(
      list(
        `:warning: Revocations overdue (${digest.overdueRevocations.length}): still in place, the bot keeps trying`,
        digest.overdueRevocations.map(
          (o) =>
            `${who(o)} · ${what(o)} · revoking since ${when(o.startedAt)}${o.detail ? ` (${o.detail})` : ''} · ${o.why}${o.lastError ? ` · last error: ${o.lastError}` : ''}`,
        ),
      ),
    );
  }

  if (digest.breakGlass.length) {
    lists.push(
      list(
        `:rotating_light: Break-glass access (${digest.breakGlass.length}): taken this week, and any still unreviewed`,
        digest.breakGlass.map(
          (b) =>
            `${who(b)} · ${what(b)} · ${when(b.at)} · ${b.durationSeconds / 60 >= 60 ? `${Math.round(b.durationSeconds / 3600)} h` : `${Math.round(b.durationSeconds / 60)} min`} · ${reviewWords(b, when)}`,
        ),
      ),
    );
  }

  const driftLines = [
    ...digest.drift.removedExternally.map(
      (r) => `${who(r)} · ${what(r)} · removed outside the bot ${when(r.at)}; the grant was ended`,
    ),
    ...digest.drift.detected.map(
      (d) =>
        `${d.person.name ?? d.person.email} (${d.person.email}) in ${d.group} without a grant from the bot · found ${when(d.at)}`,
    ),
  ];
  if (driftLines.length) lists.push(list(`Drift this week (${driftLines.length})`, driftLines));

  lists.push(
    list(
      `Sensitive access now (${digest.sensitiveHolders.length})`,
      longestHeldFirst(digest.sensitiveHolders).map(
        (h) =>
          `${who(h)} · ${what(h)} · since ${when(h.since)} · until ${when(h.until)} · ${h.approvedBy.length ? `approved by ${h.approvedBy.join(', ')}` : 'approved automatically'}`,
      ),
      perRole(digest.sensitiveHolders),
    ),
  );

  if (digest.repeatedExtensions.length) {
    lists.push(
      list(
        `Same access extended ${REPEATED_EXTENSION_THRESHOLD} times or more in ${digest.repeatedExtensionWindowDays} days (${digest.repeatedExtensions.length})`,
        digest.repeatedExtensions.map(
          (r) => `${r.person.name} (${r.person.email}) · ${r.appName} ${r.roleName} · ${r.count} extensions`,
        ),
      ),
    );
  }

  lists.push(
    list(
      `Granted this week (${digest.granted.length})`,
      digest.granted.map((g) => `${who(g)} · ${what(g)} · ${when(g.at)}`),
      perRole(digest.granted),
    ),
  );
  if (digest.extended.length) {
    lists.push(
      list(
        `Extended this week (${digest.extended.length})`,
        digest.extended.map((g) => `${who(g)} · ${what(g)} · ${when(g.at)}${g.detail ? ` · ${g.detail}` : ''}`),
      ),
    );
  }
  // Expiry is the routine way access ends; the other reasons are the ones worth reading.
  const notable = digest.revoked.filter((r) => r.detail !== 'expired');
  const expired = digest.revoked.length - notable.length;
  lists.push(
    list(
      `Revoked this week (${digest.revoked.length})`,
      [
        ...notable.map((r) => `${who(r)} · ${what(r)} · ${when(r.at)} · ${(r.detail ?? '').replaceAll('_', ' ')}`),
        // The count above includes them: say where they went rather than drop them silently.
        ...(expired
          ? [
              `${expired} ended as planned when ${expired === 1 ? 'it' : 'they'} expired (not listed; every one is in the CSV)`,
            ]
          : []),
      ],
      reasonSummary(digest.revokedByReason).replace(/^: /, '') || undefined,
    ),
  );

  if (failures) {
    lists.push(
      list(`Failures this week (${failures})`, [
        ...digest.failures.provisioningFailed.map(
          (f) => `${who(f)} · ${what(f)} · provisioning failed ${when(f.at)}${f.detail ? ` · ${f.detail}` : ''}`,
        ),
        ...digest.failures.revocationFailed.map(
          (f) =>
            `${who(f)} · ${what(f)} · revocation failed ${f.attempts} time${f.attempts === 1 ? '' : 's'}${f.detail ? ` · last: ${f.detail}` : ''}`,
        ),
        ...(digest.failures.messagesGivenUp
          ? [
              `${digest.failures.messagesGivenUp} message${digest.failures.messagesGivenUp === 1 ? '' : 's'} could not be delivered and were given up`,
            ]
          : []),
      ]),
    );
  }

  const foot: KnownBlock[] = [
    { type: 'divider' },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(
            "Every list in full: the digest CSV in the thread, with the week's requests CSV. " +
              `Audit log head: \`${digest.auditHead.hash}\` (event ${digest.auditHead.seq}); keep it and check later ` +
              `with \`access-bot audit verify --expect-head ${digest.auditHead.hash}\`.`,
            LIMITS.contextText,
          ),
        },
      ],
    },
  ];
  // The lists share what the fixed parts leave of the budget: each gets an equal part of what is
  // left, and what a short list does not use goes to the ones after it.
  let left = LIMITS.messageBlocksTextBudget - blockText(blocks) - blockText(foot);
  lists.forEach((spec, i) => {
    const section = listSection(spec, Math.min(LIMITS.sectionText, Math.floor(left / (lists.length - i))));
    left -= blockText([section]);
    blocks.push(section);
  });
  blocks.push(...foot);

  const text = truncate(
    `Weekly access digest, ${shortDate(digest.periodStart, tz)} – ${shortDate(digest.periodEnd, tz)}: ${count(digest.sensitiveHolders.length, 'sensitive grant')} active, ` +
      `${digest.granted.length} granted, ${digest.extended.length} extended, ${digest.revoked.length} revoked, ${count(failures, 'failure')}, ` +
      `${count(digest.overdueRevocations.length, 'revocation')} overdue, ${count(digest.drift.detected.length + digest.drift.removedExternally.length, 'drift finding')}. Audit head ${digest.auditHead.hash}.`,
    LIMITS.messageText,
  );
  return { text, blocks: fitTextBudget(blocks) };
}

function list(title: string, lines: string[], summary?: string): ListSpec {
  return summary === undefined ? { title, lines } : { title, lines, summary };
}

/**
 * A section of a title, an optional summary line and the top lines (at most DIGEST_LIST_LINES)
 * that fit in `budget` characters; the rest is "and N more in the CSV".
 */
function listSection(spec: ListSpec, budget: number): SectionBlock {
  const summary = spec.summary ? `\n${escapeMrkdwn(spec.summary)}` : '';
  const head = truncateMrkdwn(`*${escapeMrkdwn(spec.title)}*${summary}`, Math.max(200, budget - 60));
  if (spec.lines.length === 0) return section(`${head}\nnone`);
  const room = budget - 50; // for "and N more in the CSV"
  let text = head;
  let shown = 0;
  for (const raw of spec.lines.slice(0, DIGEST_LIST_LINES)) {
    const next = `\n• ${truncateMrkdwn(escapeMrkdwn(raw), LINE_CHARS)}`;
    if (text.length + next.length > room) break;
    text += next;
    shown++;
  }
  const more = spec.lines.length - shown;
  if (more > 0) text += `\n_and ${more.toLocaleString('en-US')} more in the CSV_`;
  return section(text);
}

function field(label: string, value: string) {
  return {
    type: 'mrkdwn' as const,
    text: truncateMrkdwn(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}`, LIMITS.fieldText),
  };
}

// List lines are plain text here; listSection escapes each whole line once.
function who(line: Pick<DigestGrantLine, 'person'>): string {
  return line.person.name || line.person.email;
}

function what(line: Pick<DigestGrantLine, 'appName' | 'roleName'>): string {
  return `${line.appName} ${line.roleName}`;
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

function reasonSummary(byReason: Record<string, number>): string {
  const parts = Object.entries(byReason)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, n]) => `${reason.replaceAll('_', ' ')} ${n}`);
  return parts.length ? `: ${parts.join(', ')}` : '';
}

/** "GitHub Owner 1,200 · AWS Administrator 3,800": counts per role, largest first, at most eight. */
function perRole(lines: readonly DigestGrantLine[]): string | undefined {
  if (lines.length <= DIGEST_LIST_LINES) return undefined;
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(what(l), (counts.get(what(l)) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = sorted.slice(0, 8).map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`);
  return `By role: ${shown.join(' · ')}${sorted.length > 8 ? ` · ${sorted.length - 8} more roles` : ''}`;
}

function longestHeldFirst(holdings: readonly DigestHolding[]): DigestHolding[] {
  return [...holdings].sort((a, b) => a.since.localeCompare(b.since) || a.grantId.localeCompare(b.grantId));
}

const SHORT_DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** "Mon 2 Mar 10:00" in the bot's time zone. */
export function shortDate(iso: string, timezone: string): string {
  let format = SHORT_DATE_FORMATS.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    SHORT_DATE_FORMATS.set(timezone, format);
  }
  return format.format(new Date(iso)).replace(',', '');
}
