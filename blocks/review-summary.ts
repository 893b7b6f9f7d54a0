/**
 * A review campaign's summary for the security channel: what happened (decided on time, kept,
 * revoked, undecided, removals verified and pending), the rubber-stamp signal, each reviewer's
 * share, the removals still open, and the rules reviewed too (each sensitive role's eligibility and
 * approver groups with their members). Fixed layout within Slack's 50 blocks and the message text
 * budget: lists are cut with "and N more"; the CSV in the thread has every item.
 */
import type { KnownBlock } from '@slack/web-api';
import type { RuleReviewed } from '../src/domain/reviews/review-records.js';
import { RUBBER_STAMP_SECONDS, type ReviewSummary } from '../src/domain/reviews/review-summary.js';
import type { SlackMessage } from './approval-message.js';
import { escapeMrkdwn } from './escape.js';
import { list, slackDate } from './format.js';
import { LIMITS, fitTextBudget, truncate, truncateMrkdwn } from './limits.js';
import { context, header, section } from './block-parts.js';

/** Lines per list in the message. */
const LINES = 10;
/** Members named per group of a rule before "and N more". */
const MEMBERS_SHOWN = 8;

export function reviewSummaryMessage(summary: ReviewSummary, timezone: string): SlackMessage {
  const c = summary.campaign;
  const n = summary.counts;
  const undecided = (c.definition as { undecided?: string }).undecided === 'revoke' ? 'revoked' : 'kept';
  const blocks: KnownBlock[] = [];
  blocks.push(header(`${c.status === 'closed' ? 'Access review closed' : 'Access review'}: ${c.reviewName}`));
  blocks.push({
    type: 'section',
    fields: [
      field(`*Campaign*\n\`${c.id}\` · review \`${escapeMrkdwn(c.reviewId)}\` version \`${c.version.slice(0, 12)}\``),
      field(
        `*Population*\n${c.populationCount} item${c.populationCount === 1 ? '' : 's'} · hash \`${c.populationHash.slice(0, 16)}…\``,
      ),
      field(`*Started*\n${slackDate(c.startedAt, timezone)} by ${escapeMrkdwn(c.startedBy)}`),
      field(
        `*Due · closed*\n${slackDate(c.dueAt, timezone)} · ${c.closedAt ? slackDate(c.closedAt, timezone) : 'open'}`,
      ),
    ],
  });
  blocks.push(
    section(
      `*${n.decidedOnTime}* decided on time · *${n.kept}* kept · *${n.revoked}* revoked · *${n.undecided}* undecided (${undecided} as the review says)` +
        (n.pending ? ` · *${n.pending}* pending` : '') +
        `\nRemovals: *${n.remediated}* verified · *${n.remediationPending}* pending · *${n.remediationFailed}* failed`,
    ),
  );
  const quick = summary.deciders.filter((d) => d.keptQuickly > 0);
  blocks.push(
    section(
      quick.length
        ? `⚠️ *${n.keptQuickly}* item${n.keptQuickly === 1 ? ' was' : 's were'} kept less than ${RUBBER_STAMP_SECONDS} seconds after the reviewer first saw ${n.keptQuickly === 1 ? 'it' : 'them'}: ` +
            list(capped(quick.map((d) => `${escapeMrkdwn(d.name)} ${d.keptQuickly} of ${d.kept} kept`)))
        : `No item was kept within ${RUBBER_STAMP_SECONDS} seconds of its first look.`,
    ),
  );
  if (summary.reviewers.length) {
    const lines = summary.reviewers.map((r) => `${escapeMrkdwn(r.name)}: ${r.decided} of ${r.assigned} decided`);
    blocks.push(section(`*Reviewers*\n${capped(lines).join('\n')}`));
  }
  if (summary.removals.length) {
    const lines = summary.removals.map(
      (r) =>
        `${r.status === 'failed' ? '⚠️' : '⏳'} ${escapeMrkdwn(r.holderName)} (${escapeMrkdwn(r.holderEmail)}) · ${escapeMrkdwn(r.access)}${r.detail ? `: ${escapeMrkdwn(truncate(r.detail, 160))}` : ''}`,
    );
    if (summary.removalsNotShown) lines.push(`…and ${summary.removalsNotShown} more (the CSV lists every item)`);
    blocks.push(section(`*Removals not verified yet*\n${lines.join('\n')}`));
  }
  const rules = c.rules ?? [];
  if (rules.length) {
    blocks.push(
      section(
        '*The rules reviewed too*: who may ask for each sensitive role in scope, and who approves it, with their members now.',
      ),
    );
    for (const rule of rules.slice(0, LINES)) blocks.push(section(ruleText(rule)));
    if (rules.length > LINES)
      blocks.push(
        context(`…and ${rules.length - LINES} more roles: the \`review.closed\` audit event lists them all.`),
      );
  }
  blocks.push(
    context(
      `Population hash \`${c.populationHash}\`: SHA-256 of the CSV's sorted \`holder_okta_id<TAB>access<TAB>source\` lines, LF-joined, over its ${c.populationCount} rows.`,
    ),
  );
  const text = `Access review ${c.reviewName} (${c.id}): ${n.kept} kept, ${n.revoked} revoked, ${n.undecided} undecided; ${n.remediated} removals verified, ${n.remediationPending} pending.`;
  return { text: escapeMrkdwn(text), blocks: fitTextBudget(blocks).slice(0, LIMITS.messageBlocks) };
}

function ruleText(rule: RuleReviewed): string {
  const groups = rule.groups.map((g) => {
    const use = g.use === 'eligibility' ? 'may ask' : 'approves';
    if (g.members === null)
      return `${escapeMrkdwn(g.group)} (${use}): could not be read (${escapeMrkdwn(truncate(g.error ?? 'error', 120))})`;
    const names = g.members.slice(0, MEMBERS_SHOWN).map(escapeMrkdwn);
    const more = g.members.length > MEMBERS_SHOWN ? ` and ${g.members.length - MEMBERS_SHOWN} more` : '';
    return `${escapeMrkdwn(g.group)} (${use}, ${g.members.length}): ${names.join(', ') || 'nobody'}${more}`;
  });
  return `*${escapeMrkdwn(rule.roleName)}* (\`${escapeMrkdwn(rule.app)}/${escapeMrkdwn(rule.role)}\`, policy \`${escapeMrkdwn(rule.policy)}\` \`${rule.version.slice(0, 12)}\`)\n${groups.join('\n')}`;
}

function capped(lines: string[]): string[] {
  return lines.length > LINES ? [...lines.slice(0, LINES - 1), `and ${lines.length - LINES + 1} more`] : lines;
}

function field(text: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.fieldText) };
}
