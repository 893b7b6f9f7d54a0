/**
 * Small text helpers shared by the builders, in people's words: dates in the reader's zone,
 * durations as a policy author writes them, who approves a step (names, not YAML), and outcomes.
 * Policy names, versions and ids stay in context lines, where an auditor looks for them.
 */
import { describeDuration } from '../src/domain/duration.js';
import { escapeMrkdwn } from './escape.js';
import type { DecisionView, PersonLabel, RequestCard, StepView } from './view-models.js';

/** Building an Intl.DateTimeFormat costs far more than using one: one per time zone. */
const PLAIN_DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();

/**
 * A date for text Slack shows as it is (fallbacks, notifications, option texts), in the reader's
 * zone: "Fri 5 Dec 2026, 10:34 CET".
 */
export function plainDate(iso: string, timezone: string): string {
  let format = PLAIN_DATE_FORMATS.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    PLAIN_DATE_FORMATS.set(timezone, format);
  }
  const parts = format.formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}, ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

/**
 * Slack's date token: every reader sees the time in their own zone ("Today at 10:34 AM"); the
 * fallback, shown where tokens are not drawn, is in the zone of the person the message is for.
 */
export function slackDate(iso: string, timezone: string): string {
  const unix = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${unix}^{date_short_pretty} at {time}|${plainDate(iso, timezone)}>`;
}

/** "1 hour", "30 days", "90 minutes", "2 weeks": the unit that says it exactly, as policy authors write them. */
export function duration(seconds: number): string {
  return describeDuration(seconds);
}

/** The effective duration: what approvers allowed so far, else what was asked for. */
export function effectiveSeconds(card: Pick<RequestCard, 'grantedSeconds' | 'requestedSeconds'>): number {
  return card.grantedSeconds ?? card.requestedSeconds;
}

/** "15 minutes (you asked for 1 hour)" when an approver shortened it, else the duration. */
export function grantedDuration(card: Pick<RequestCard, 'grantedSeconds' | 'requestedSeconds'>, asker = 'you'): string {
  const granted = effectiveSeconds(card);
  if (granted === card.requestedSeconds) return duration(granted);
  return `${duration(granted)} (${asker} asked for ${duration(card.requestedSeconds)})`;
}

export function who(person: PersonLabel): string {
  return escapeMrkdwn(person.name);
}

export function firstName(person: PersonLabel): string {
  return person.name.trim().split(/\s+/)[0] || person.name;
}

/** "Sam", "Sam and Kim", "Sam, Kim and Jordan": already escaped. */
export function names(people: PersonLabel[]): string {
  return list(people.map(who));
}

export function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

export function approvals(step: StepView): DecisionView[] {
  return step.decisions.filter((d) => d.decision === 'approve');
}

/** Who decided, as plain text: "Kim Nguyen for Marcus Chen" when a delegate decided for an approver. */
export function deciderName(decision: DecisionView): string {
  return decision.onBehalfOf ? `${decision.person.name} for ${decision.onBehalfOf.name}` : decision.person.name;
}

/** Who decided, escaped: "Kim Nguyen for Marcus Chen". */
export function decider(decision: DecisionView): string {
  return escapeMrkdwn(deciderName(decision));
}

/** "Sam Rivera and Kim Nguyen for Marcus Chen": already escaped. */
export function deciders(decisions: DecisionView[]): string {
  return list(decisions.map(decider));
}

/** Slugs a person reads better as words: `security-team` -> "Security team"; `it-helpdesk` -> "IT helpdesk". */
const ACRONYMS = new Set(['it', 'hr', 'sre', 'aws', 'gcp', 'qa', 'ui', 'ux', 'sso', 'vpn', 'crm', 'erp', 'ci']);

export function groupName(group: string): string {
  // A name someone wrote for people ("Security Team") is kept as it is.
  if (!/^[a-z0-9]+([-_][a-z0-9]+)*$/.test(group)) return group;
  const words = group
    .split(/[-_]/)
    .map((w, i) => (ACRONYMS.has(w) ? w.toUpperCase() : i === 0 ? w[0]!.toUpperCase() + w.slice(1) : w));
  return words.join(' ');
}

/** How many from where: "2 people from Security team", "someone from IT helpdesk". */
export function fromGroup(required: number, group: string): string {
  return `${required > 1 ? `${required} people` : 'someone'} from ${groupName(group)}`;
}

/**
 * Who decides a step, in people's words. `viewer` is who reads it: the requester ("your manager,
 * Marcus Chen") or anyone else ("manager, Marcus Chen"). A step that fell back to the admins says so.
 * Returns escaped mrkdwn.
 */
export function stepWho(step: StepView, viewer: 'requester' | 'other' = 'other'): string {
  const named = step.approverNames.map(escapeMrkdwn);
  if (step.fallbackReason !== null) {
    return `${step.required > 1 ? `${step.required} admins` : 'an admin'}, instead of ${ownWho(step, viewer)}`;
  }
  return ownWho(step, viewer, named);
}

function ownWho(step: StepView, viewer: 'requester' | 'other', named: string[] = []): string {
  switch (step.approver.kind) {
    case 'manager':
      return `${viewer === 'requester' ? 'your manager' : 'manager'}${named.length === 1 ? `, ${named[0]}` : ''}`;
    case 'user':
      return named[0] ?? escapeMrkdwn(step.approver.user);
    case 'group':
      return escapeMrkdwn(fromGroup(step.required, step.approver.group));
  }
}

/** "Step 2 of 3 · 2 people from Security team". */
export function stepTitle(step: StepView, total: number, viewer: 'requester' | 'other' = 'other'): string {
  return `Step ${step.index + 1} of ${total} · ${stepWho(step, viewer)}`;
}

/** "1 of 2 approvals: Sam Rivera". */
export function progressLine(step: StepView): string {
  const yes = approvals(step);
  return `${yes.length} of ${step.required} approvals${yes.length ? `: ${deciders(yes)}` : ''}`;
}

/** "✓ Step 1, manager: approved by Marcus Chen". */
export function decidedStepLine(step: StepView): string {
  const denied = step.decisions.find((d) => d.decision === 'deny');
  const whoDecides = ownWho(step, 'other');
  if (denied) return `✗ Step ${step.index + 1}, ${whoDecides}: denied by ${decider(denied)}`;
  return `✓ Step ${step.index + 1}, ${whoDecides}: approved by ${deciders(approvals(step))}`;
}

export function shortVersion(version: string): string {
  return version.slice(0, 12);
}

/**
 * A step's escalation, in people's words: before it escalates, when it will and to whom ("Escalates
 * to Access admins if nobody decides by …"); after, when it did and who was added. Null when the
 * step has no escalation (or it no longer matters).
 */
export function escalationLine(step: StepView, timezone: string, open: boolean): string | null {
  const escalation = step.approver.escalation;
  if (!escalation) return null;
  const target =
    escalation.to.kind === 'group' ? escapeMrkdwn(groupName(escalation.to.group)) : escapeMrkdwn(escalation.to.user);
  if (step.escalatedAt) {
    const added = step.escalationNames?.length
      ? `: ${list(step.escalationNames.map(escapeMrkdwn))} may decide too`
      : ', but nobody else could be added';
    return `⏫ *Escalated* to ${target} ${slackDate(step.escalatedAt, timezone)}, after nobody decided within ${duration(escalation.afterSeconds)}${added}.`;
  }
  if (!open || !step.startedAt) return null;
  const at = new Date(Date.parse(step.startedAt) + escalation.afterSeconds * 1000).toISOString();
  return `⏫ Escalates to ${target} if nobody decides by ${slackDate(at, timezone)}.`;
}
