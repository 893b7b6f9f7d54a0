/**
 * `/access explain <app> <role>`: the policy trace as Block Kit, the same evaluation the request
 * form's submission runs, for the person asking, right now: eligible or not and why, duration
 * choices, auto-approval and its conditions, and each approval step with who it would ask, who is
 * excluded and how many people it would notify; the policy name and version at the foot. Names and
 * emails are escaped; nobody is mentioned.
 */
import type { KnownBlock } from '@slack/web-api';
import type { Evaluation, ResolvedStep } from '../src/domain/evaluate.js';
import type { SlackMessage } from './approval-message.js';
import { appendCapped } from './command-replies.js';
import { channelLink, escapeMrkdwn } from './escape.js';
import { duration, shortVersion } from './format.js';
import { LIMITS, capList, fitTextBudget, truncate, truncateMrkdwn } from './limits.js';

const mark = (ok: boolean) => (ok ? '✅' : '❌');
/** Approvers named per step; a group of hundreds is summarised. */
const NAMES_SHOWN = 8;

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.sectionText) } };
}

/** People a step's start would notify: one channel message, or one DM per approver. */
export function stepNotifies(step: ResolvedStep): string {
  const n = step.approvers.length;
  if (step.notifyChannel) return `posts one message in ${channelLink(step.notifyChannel)} (${n} ${n === 1 ? 'person' : 'people'} may decide there)`;
  return `notifies ${n} ${n === 1 ? 'person' : 'people'} by DM`;
}

function stepBlock(step: ResolvedStep, total: number): KnownBlock {
  const names = capList(step.approvers.map((p) => escapeMrkdwn(p.name)), NAMES_SHOWN, (n) => `${n} more`).join(', ') || 'nobody';
  const lines = [
    `${step.satisfiable ? '•' : '❌'} *Step ${step.index + 1} of ${total}: ${escapeMrkdwn(step.label)}* — ${step.required} approval${step.required === 1 ? '' : 's'} from ${names}`,
    `   ${stepNotifies(step)}`,
  ];
  for (const x of step.excluded.slice(0, 5)) lines.push(`   excluded ${escapeMrkdwn(x.person.name)}: ${x.reason.replaceAll('_', ' ')}`);
  if (step.excluded.length > 5) lines.push(`   …and ${step.excluded.length - 5} more excluded`);
  if (step.fallback) lines.push(`   ↪ admin fallback: ${escapeMrkdwn(step.fallback.reason)}`);
  if (!step.satisfiable) lines.push('   this step cannot be satisfied, even with the admin fallback');
  return section(lines.join('\n'));
}

export function explainMessage(e: Evaluation): SlackMessage {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`How ${e.appName} · ${e.roleName} would be decided`, LIMITS.headerText) } },
    section(`${mark(e.eligibility.eligible)} *Eligibility*: ${escapeMrkdwn(e.eligibility.reason)}.`),
    section([
      `*Duration*: ${duration(e.duration.defaultSeconds)} by default, at most ${duration(e.duration.maxSeconds)} (choices: ${e.duration.choices.map(duration).join(', ')}).`,
      `*Justification*: ${e.justification.required ? 'required' : 'optional'}.`,
    ].join('\n')),
  ];
  const auto = [`${e.autoApprove.applies ? '✅' : '➖'} *Auto-approval*: ${escapeMrkdwn(e.autoApprove.reason)}.`];
  for (const c of e.autoApprove.conditions) auto.push(`   ${mark(c.holds)} ${escapeMrkdwn(c.condition)}: ${escapeMrkdwn(c.fact)}`);
  blocks.push(section(auto.join('\n')));

  if (!e.autoApprove.applies && e.chain.length > 0) {
    const notified = e.chain.reduce((sum, s) => sum + (s.notifyChannel ? 0 : s.approvers.length), 0);
    const channels = e.chain.filter((s) => s.notifyChannel).length;
    const reach = `${notified} ${notified === 1 ? 'person' : 'people'} by DM${channels ? ` and ${channels} channel message${channels === 1 ? '' : 's'}` : ''}`;
    blocks.push(section(`*Approval chain* (${e.chain.length} step${e.chain.length === 1 ? '' : 's'}, in order; each step is asked when the one before it is approved). In all it would notify ${reach}.`));
    // Room for the outcome and the foot.
    appendCapped(blocks, e.chain.map((s) => [stepBlock(s, e.chain.length)]), LIMITS.messageBlocks, 3, (n) => `…and ${n} more steps`);
  }
  blocks.push({ type: 'divider' });
  blocks.push(section(`*Outcome*: ${outcomeWord(e)}. ${escapeMrkdwn(e.summary)}`));
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncateMrkdwn(`Policy \`${escapeMrkdwn(e.policyName)}\` version \`${shortVersion(e.policyVersion)}\` · evaluated for ${escapeMrkdwn(e.requester.name)} (${escapeMrkdwn(e.requester.email)}) against the live directory · nothing was recorded and nobody was notified`, LIMITS.contextText) }],
  });
  return { text: truncateMrkdwn(escapeMrkdwn(`${e.appName} ${e.roleName}: ${e.summary}`), LIMITS.messageText), blocks: fitTextBudget(blocks.slice(0, LIMITS.messageBlocks)) };
}

function outcomeWord(e: Evaluation): string {
  switch (e.outcome) {
    case 'not_eligible':
      return '❌ not eligible';
    case 'invalid_request':
      return '❌ the request as given would be refused';
    case 'auto_approved':
      return '✅ approved automatically';
    case 'needs_approval':
      return '📨 needs approval';
    case 'unsatisfiable':
      return '❌ nobody could approve it';
  }
}
