/**
 * How a request would be decided, without making it: the policy evaluated against the live
 * directory for one person (eligibility, duration, justification, auto-approval, each approval step
 * with who would be asked and who is excluded). Records nothing and tells nobody: `/access explain`
 * and `access-bot policies explain` both show this.
 */
import { evaluate, type Evaluation } from '../domain/evaluate.js';
import type { Person } from '../domain/person.js';
import type { Role } from '../domain/policy.js';
import type { Deps } from './context.js';
import { gatherDirectoryFacts } from './directory-facts.js';
import { findEntry } from './policy-lookup.js';

export interface ExplainInput {
  /** Who would ask: looked up once the application and role are known to exist. */
  requester: () => Promise<Person>;
  app: string;
  /** Undefined when the person named none: refused with the roles there are. */
  role: string | undefined;
  durationSeconds?: number;
  justification?: string;
  /** Evaluate as of this time; default now. */
  at?: Date;
}

/** The evaluation, and the role as its policy says (what the explanation shows beside it). */
export interface Explanation {
  evaluation: Evaluation;
  role: Role;
}

/** Throws `AccessError('unknown_role')` for an unknown application or role. */
export async function explainAccess(
  deps: Pick<Deps, 'catalog' | 'directory' | 'settings' | 'clock'>,
  input: ExplainInput,
): Promise<Explanation> {
  const entry = findEntry(deps, input.app, input.role);
  const facts = await gatherDirectoryFacts(
    deps.directory,
    await input.requester(),
    entry.role,
    deps.settings.adminGroup,
  );
  const evaluation = evaluate(
    entry.app,
    entry.role,
    entry.version,
    facts,
    { durationSeconds: input.durationSeconds, justification: input.justification },
    input.at ?? deps.clock.now(),
  );
  return { evaluation, role: entry.role };
}
