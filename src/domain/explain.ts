/** Renders an evaluation as a trace a person can read (CLI, and `/access explain` in Slack). */
import { describeDuration } from './duration.js';
import type { Evaluation, ResolvedStep } from './evaluate.js';

function explainLines(e: Evaluation): string[] {
  const lines: string[] = [];
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  lines.push(`${e.appName} / ${e.roleName} for ${e.requester.name} <${e.requester.email}>`);
  lines.push(`Policy ${e.policyName}, version ${e.policyVersion.slice(0, 12)}`);
  lines.push(`${mark(e.eligibility.eligible)} Eligibility: ${e.eligibility.reason}`);
  lines.push(`${mark(e.duration.requested.ok)} Duration: ${e.duration.requested.reason}`);
  lines.push(
    `  Choices: ${e.duration.choices.map((s) => describeDuration(s)).join(', ')} (default ${describeDuration(e.duration.defaultSeconds)})`,
  );
  lines.push(
    `${mark(e.justification.ok)} Justification: ${e.justification.required ? 'required' : 'optional'}; ${e.justification.reason}`,
  );
  lines.push(`${e.autoApprove.applies ? '✓' : '-'} Auto-approve: ${e.autoApprove.reason}`);
  for (const c of e.autoApprove.conditions) lines.push(`    ${mark(c.holds)} ${c.condition}: ${c.fact}`);
  if (!e.autoApprove.applies && e.chain.length > 0) {
    lines.push(`Approval chain (${e.chain.length} step${e.chain.length === 1 ? '' : 's'}):`);
    for (const step of e.chain) lines.push(...stepLines(step, e.chain.length));
  }
  lines.push(`Outcome: ${e.outcome.replaceAll('_', ' ')}. ${e.summary}`);
  return lines;
}

function stepLines(step: ResolvedStep, total: number): string[] {
  const lines: string[] = [];
  const who = step.approvers.map((p) => p.email).join(', ') || 'nobody';
  lines.push(
    `  ${step.index + 1}/${total} ${step.label}: ${step.required} of ${step.approvers.length} (${who})${step.satisfiable ? '' : '  ✗ cannot be satisfied'}`,
  );
  if (step.notifyChannel)
    lines.push(`      posts one message in ${step.notifyChannel} instead of ${step.approvers.length} DMs`);
  else lines.push(`      notifies ${step.approvers.length} ${step.approvers.length === 1 ? 'person' : 'people'}`);
  for (const x of step.excluded) lines.push(`      excluded ${x.person.email}: ${x.reason.replaceAll('_', ' ')}`);
  if (step.fallback) lines.push(`      fallback: ${step.fallback.reason}`);
  return lines;
}

export function explainText(e: Evaluation): string {
  return explainLines(e).join('\n');
}
