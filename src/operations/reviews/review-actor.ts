/** Who starts or closes a review: an admin (in Slack, or on the command line) or the bot itself. */
import { systemActor, type Actor } from '../../domain/audit.js';
import type { ActingPerson } from '../acting-person.js';
import { actorOf } from '../acting-person.js';

export type ReviewActor =
  { kind: 'admin'; admin: ActingPerson } | { kind: 'system'; component: string; details?: Record<string, unknown> };

export function auditActor(by: ReviewActor): Actor {
  return by.kind === 'admin' ? actorOf(by.admin) : systemActor(by.component);
}

/** An email, or `system:<component>`: how campaigns record who started or closed them. */
export function actorText(by: ReviewActor): string {
  return by.kind === 'admin' ? by.admin.person.email : `system:${by.component}`;
}
