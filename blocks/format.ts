/** Small text helpers shared by the builders: dates, durations, step and status phrases. */
import { describeDuration } from '../src/domain/duration.js';
import { escapeMrkdwn } from './escape.js';
import type { DecisionView, PersonLabel, RequestCard, StepView } from './view-models.js';

/** Building an Intl.DateTimeFormat costs far more than using one: one per time zone. */
const PLAIN_DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** A date in the bot's time zone, for fallback text: "2 Mar 2026, 10:00". */
export function plainDate(iso: string, timezone: string): string {
  let format = PLAIN_DATE_FORMATS.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    PLAIN_DATE_FORMATS.set(timezone, format);
  }
  return `${format.format(new Date(iso))} (${timezone})`;
}

/** Slack's date token: each reader sees the time in their own zone; the fallback names the bot's. */
export function slackDate(iso: string, timezone: string): string {
  const unix = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${unix}^{date_short_pretty} at {time}|${plainDate(iso, timezone)}>`;
}

/** "1 hour", "30 days", "2 weeks": whole days are said in days unless they are whole weeks (90d is not "12 weeks 6 days"). */
export function duration(seconds: number): string {
  const days = seconds / 86_400;
  if (Number.isInteger(days) && days > 0 && days % 7 !== 0) return `${days} day${days === 1 ? '' : 's'}`;
  return describeDuration(seconds);
}

/** The effective duration: what approvers allowed so far, else what was asked for. */
export function effectiveSeconds(card: Pick<RequestCard, 'grantedSeconds' | 'requestedSeconds'>): number {
  return card.grantedSeconds ?? card.requestedSeconds;
}

export function who(person: PersonLabel): string {
  return escapeMrkdwn(person.name);
}

export function names(people: PersonLabel[]): string {
  const list = people.map(who);
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
}

export function approvals(step: StepView): DecisionView[] {
  return step.decisions.filter((d) => d.decision === 'approve');
}

/** "Step 2 of 3 · group security-team (2 approvals needed)". */
export function stepTitle(step: StepView, total: number): string {
  const need = step.required > 1 ? ` (${step.required} approvals needed)` : '';
  return `Step ${step.index + 1} of ${total} · ${escapeMrkdwn(step.label)}${need}`;
}

/** "1 of 2 approvals: Sam Rivera". */
export function progressLine(step: StepView): string {
  const yes = approvals(step);
  return `${yes.length} of ${step.required} approvals${yes.length ? `: ${names(yes.map((d) => d.person))}` : ''}`;
}

/** "Step 1 (manager) approved by Marcus Chen". */
export function decidedStepLine(step: StepView): string {
  const denied = step.decisions.find((d) => d.decision === 'deny');
  if (denied) return `✗ Step ${step.index + 1} (${escapeMrkdwn(step.label)}) denied by ${who(denied.person)}`;
  return `✓ Step ${step.index + 1} (${escapeMrkdwn(step.label)}) approved by ${names(approvals(step).map((d) => d.person))}`;
}

/** "2 approval steps · up to 4 hours" or "approved automatically · up to 90 days". */
export function policySummary(stepCount: number | 'auto', maxSeconds: number, autoRule: boolean): string {
  const approval = stepCount === 'auto' ? 'approved automatically' : `${stepCount} approval step${stepCount === 1 ? '' : 's'}${autoRule ? ' (or automatic)' : ''}`;
  return `${approval} · up to ${duration(maxSeconds)}`;
}

export function shortVersion(version: string): string {
  return version.slice(0, 12);
}
