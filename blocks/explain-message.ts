/**
 * `/access explain <app> <role>`: the policy trace as Block Kit, the same evaluation the request
 * form's submission runs, for the person asking, right now, in their words: may they ask, for how
 * long, is it automatic for them, and who each approval step would ask (and who not, and why),
 * how many people it would notify; the policy name and version at the foot, where an auditor
 * looks. Names and emails are escaped; nobody is mentioned. (`policies explain` on the command
 * line prints the same evaluation as the policy's own terms, for policy authors.)
 */
import type { KnownBlock } from '@slack/web-api';
import type { Evaluation, Exclusion, ResolvedStep } from '../src/domain/evaluate.js';
import type { Role } from '../src/domain/policy.js';
import type { SlackMessage } from './approval-message.js';
import { appendCapped } from './command-replies.js';
import { channelLink, escapeMrkdwn } from './escape.js';
import { duration, fromGroup, groupName, list, shortVersion } from './format.js';
import { LIMITS, capList, fitTextBudget, truncate, truncateMrkdwn } from './limits.js';
import { section } from './block-parts.js';

/** Approvers named per step; a group of hundreds is summarised. */
const NAMES_SHOWN = 8;

/** People a step's start would notify: one channel message, or one DM per approver. */
function stepNotifies(step: ResolvedStep): string {
  const n = step.approvers.length;
  if (step.notifyChannel)
    return `posts one message in ${channelLink(step.notifyChannel)} (${n} ${n === 1 ? 'person' : 'people'} may decide there)`;
  return `notifies ${n} ${n === 1 ? 'person' : 'people'} by DM`;
}

function personName(p: { name: string; title?: string }): string {
  return escapeMrkdwn(p.title ? `${p.name} (${p.title})` : p.name);
}

/** Who a step asks, as the requester would say it. */
function stepWho(step: ResolvedStep): string {
  switch (step.step.kind) {
    case 'manager':
      return 'your manager';
    case 'user':
      return step.approvers[0] && !step.fallback ? personName(step.approvers[0]) : escapeMrkdwn(step.step.user);
    case 'group':
      return escapeMrkdwn(fromGroup(step.required, step.step.group));
  }
}

const WHY_NOT: Record<Exclusion['reason'], string> = {
  requester: 'it is your own request',
  inactive: 'not active in the directory',
  decided_earlier_step: 'decided an earlier step',
};

function stepBlock(step: ResolvedStep, total: number): KnownBlock {
  const names =
    capList(
      step.approvers.map((p) => escapeMrkdwn(p.name)),
      NAMES_SHOWN,
      (n) => `${n} more`,
    ).join(', ') || 'nobody';
  const asks = step.fallback ? `the admins, instead of ${stepWho(step)}` : stepWho(step);
  // A named person's step names them already.
  const approvals = `${step.required} approval${step.required === 1 ? '' : 's'}`;
  const from =
    step.step.kind === 'user' && !step.fallback && step.approvers.length === 1
      ? approvals
      : `${approvals} from ${step.approvers.length > step.required ? 'any of ' : ''}${names}`;
  const lines = [
    `${step.satisfiable ? '•' : '❌'} *Step ${step.index + 1} of ${total}: ${asks}* — ${from}`,
    `   ${stepNotifies(step)}`,
  ];
  const excluded = step.excluded.slice(0, 5).map((x) => `${escapeMrkdwn(x.person.name)} (${WHY_NOT[x.reason]})`);
  if (step.excluded.length > 5) excluded.push(`${step.excluded.length - 5} more`);
  if (excluded.length) lines.push(`   not asked: ${list(excluded)}`);
  if (step.fallback) lines.push(`   ↪ why the admins: ${escapeMrkdwn(step.fallback.reason)}`);
  if (!step.satisfiable) lines.push('   nobody can satisfy this step, not even the admins');
  return section(lines.join('\n'));
}

function eligibilityLine(e: Evaluation, role: Role): string {
  if (e.eligibility.eligible)
    return `✅ *You may ask*: you are in ${escapeMrkdwn(groupName(e.eligibility.matchedGroup ?? ''))}.`;
  if (!e.requester.active) return '❌ *You may not ask*: your directory account is not active.';
  return `❌ *You may not ask*: only members of ${escapeMrkdwn(list(role.eligibleGroups.map(groupName)))} may, and you are in none of them.`;
}

function autoLine(e: Evaluation, role: Role): string {
  if (role.approval === 'auto') return '✅ *Automatic*: every request for this role is approved at once.';
  const when = role.autoApprove;
  if (!when) return '➖ *Automatic approval*: none for this role.';
  const who = when.requesterGroups ? `members of ${list(when.requesterGroups.map(groupName))}` : 'everyone who may ask';
  const upTo = when.maxDurationSeconds !== undefined ? `, up to ${duration(when.maxDurationSeconds)}` : '';
  const rule = `automatic for ${escapeMrkdwn(who)}${upTo}`;
  if (e.autoApprove.applies) return `✅ *Automatic for you*: ${rule}, and you are one of them.`;
  // checkAutoApprove lists the group condition first, when the rule has one.
  const inGroup = when.requesterGroups ? e.autoApprove.conditions[0]?.holds === true : true;
  if (!inGroup)
    return `➖ *Not automatic for you*: it is ${rule}; you are not in ${when.requesterGroups!.length === 1 ? 'that group' : 'those groups'}.`;
  return `➖ *Not automatic at this length*: it is ${rule}; ${duration(e.duration.requested.seconds)} is longer.`;
}

export function explainMessage(e: Evaluation, role: Role): SlackMessage {
  const choices = [...e.duration.choices].sort((a, b) => a - b);
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`How ${e.appName} · ${e.roleName} would be decided for you`, LIMITS.headerText),
      },
    },
    section(eligibilityLine(e, role)),
    section(
      [
        `*How long*: ${duration(e.duration.defaultSeconds)} unless you choose otherwise, at most ${duration(e.duration.maxSeconds)} (choices: ${choices.map(duration).join(', ')}).`,
        `*Justification*: ${e.justification.required ? 'required' : 'optional'}.`,
      ].join('\n'),
    ),
    section(autoLine(e, role)),
  ];

  if (!e.autoApprove.applies && e.chain.length > 0) {
    const notified = e.chain.reduce((sum, s) => sum + (s.notifyChannel ? 0 : s.approvers.length), 0);
    const channels = e.chain.filter((s) => s.notifyChannel).length;
    const reach = `${notified} ${notified === 1 ? 'person' : 'people'} by DM${channels ? ` and ${channels} channel message${channels === 1 ? '' : 's'}` : ''}`;
    blocks.push(
      section(
        `*Who approves* (${e.chain.length} step${e.chain.length === 1 ? '' : 's'}, in order; each is asked when the one before approves). In all it would notify ${reach}.`,
      ),
    );
    // Room for the outcome and the foot.
    appendCapped(
      blocks,
      e.chain.map((s) => [stepBlock(s, e.chain.length)]),
      LIMITS.messageBlocks,
      3,
      (n) => `…and ${n} more steps`,
    );
  }
  blocks.push({ type: 'divider' });
  blocks.push(section(`*Outcome*: ${outcomeWords(e)}`));
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncateMrkdwn(
          `Policy \`${escapeMrkdwn(e.policyName)}\` version \`${shortVersion(e.policyVersion)}\` · evaluated for ${escapeMrkdwn(e.requester.name)} (${escapeMrkdwn(e.requester.email)}) against the live directory · nothing was recorded and nobody was notified`,
          LIMITS.contextText,
        ),
      },
    ],
  });
  const text = truncateMrkdwn(escapeMrkdwn(`${e.appName} ${e.roleName}: ${plainOutcome(e)}`), LIMITS.messageText);
  return { text, blocks: fitTextBudget(blocks.slice(0, LIMITS.messageBlocks)) };
}

function outcomeWords(e: Evaluation): string {
  switch (e.outcome) {
    case 'not_eligible':
      return '❌ you may not request it.';
    case 'invalid_request':
      return `❌ the request as given would be refused: ${escapeMrkdwn(e.duration.requested.ok ? e.justification.reason : e.duration.requested.reason)}.`;
    case 'auto_approved':
      return '✅ approved automatically, at once.';
    case 'needs_approval':
      return `📨 needs approval: ${e.chain.map((s) => (s.fallback ? 'the admins' : stepWho(s))).join(', then ')}.`;
    case 'unsatisfiable':
      return '❌ nobody could approve it: there are not enough people who may decide.';
  }
}

function plainOutcome(e: Evaluation): string {
  switch (e.outcome) {
    case 'not_eligible':
      return 'you may not request it';
    case 'invalid_request':
      return 'the request as given would be refused';
    case 'auto_approved':
      return 'approved automatically';
    case 'needs_approval':
      return `needs ${e.chain.length} approval step${e.chain.length === 1 ? '' : 's'}`;
    case 'unsatisfiable':
      return 'nobody could approve it';
  }
}
