/**
 * The audit trail: append-only events, each hashed together with the previous event's hash, so a
 * changed, removed or reordered row breaks the chain at a point `verifyChain` can name.
 */
import { canonicalJson, sha256Hex } from './canonical.js';

/** Every action the log knows, named `entity.pastTenseVerb`. */
export const AUDIT_ACTIONS = [
  'request.submitted',
  'request.autoApproved',
  'request.approved',
  'request.denied',
  'request.cancelled',
  'request.expired',
  'request.refused',
  'step.started',
  'step.fallbackUsed',
  'step.approved',
  'step.denied',
  'step.escalated',
  'step.reminded',
  'grant.provisioningStarted',
  'grant.provisioned',
  'grant.activated',
  'grant.provisioningFailed',
  'grant.extended',
  'grant.revocationStarted',
  'grant.membershipKept',
  'grant.revoked',
  'grant.revocationFailed',
  'grant.provisioningUndone',
  'grant.reminded',
  'breakGlass.invoked',
  'breakGlass.reviewed',
  'breakGlass.reviewOverdue',
  'delegation.created',
  'delegation.ended',
  'task.created',
  'task.completed',
  'task.cancelled',
  'identity.bound',
  'identity.unbound',
  'identity.conflicted',
  'policy.added',
  'policy.changed',
  'policy.retired',
  'reviewDefinition.added',
  'reviewDefinition.changed',
  'reviewDefinition.retired',
  'export.created',
  'drift.detected',
  'drift.resolved',
  'digest.posted',
  'job.failed',
  'job.abandoned',
  /** A signed checkpoint of the chain's head (details: the checkpoint, see domain/checkpoint.ts). */
  'audit.checkpointed',
  'review.started',
  'review.reminded',
  'review.closed',
  'review.summaryPosted',
  'reviewItem.kept',
  'reviewItem.revoked',
  'reviewItem.leftUndecided',
  'reviewItem.reportedForRemoval',
  'reviewItem.remediated',
  'reviewItem.remediationFailed',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type Actor =
  | {
      kind: 'person';
      directoryId: string;
      email: string;
      slackId?: string;
      /** Set when the person acted from the command line: then which OS user on which host ran it. */
      via?: 'cli';
      osUser?: string;
      host?: string;
    }
  | { kind: 'system'; component: string };

export interface AuditEventInput {
  at: string;
  actor: Actor;
  action: AuditAction;
  requestId?: string | null;
  grantId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditEvent {
  seq: number;
  at: string;
  actor: Actor;
  action: AuditAction;
  requestId: string | null;
  grantId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export const systemActor = (component: string): Actor => ({ kind: 'system', component });

/** The hash of an event: SHA-256 over the previous hash and the canonical JSON of its content. */
export function hashEvent(prevHash: string, event: Omit<AuditEvent, 'hash' | 'prevHash'>): string {
  return hashEventJson(prevHash, {
    ...event,
    actor: canonicalJson(event.actor),
    details: canonicalJson(event.details),
  });
}

/**
 * `hashEvent` of an event whose actor and details are already canonical JSON text, as they are
 * stored: the content is assembled around them, keys in canonical (sorted) order, so nothing is
 * serialised twice.
 */
export function hashEventJson(
  prevHash: string,
  event: Omit<AuditEvent, 'hash' | 'prevHash' | 'actor' | 'details'> & { actor: string; details: string },
): string {
  const content =
    `{"action":${JSON.stringify(event.action)},"actor":${event.actor},"at":${JSON.stringify(event.at)}` +
    `,"details":${event.details},"grantId":${JSON.stringify(event.grantId)}` +
    `,"requestId":${JSON.stringify(event.requestId)},"seq":${JSON.stringify(event.seq)}}`;
  return sha256Hex(`${prevHash}\n${content}`);
}

export function actorLabel(actor: Actor): string {
  return actor.kind === 'system' ? `system:${actor.component}` : actor.email;
}

export type ChainProblem =
  | { kind: 'changed'; seq: number; message: string }
  | { kind: 'removed'; seq: number; message: string }
  | { kind: 'reordered'; seq: number; message: string }
  | { kind: 'head_mismatch'; seq: number; message: string };

export interface ChainVerification {
  ok: boolean;
  count: number;
  head: string;
  problem?: ChainProblem;
}

/**
 * Walks the events in stored (insertion) order and names the first one that was changed, removed
 * or reordered. Streaming: one pass, constant memory. `expectHead` catches a truncated log: a head
 * printed earlier (in an export or a digest) must still be in the chain.
 */
export function verifyChain(events: Iterable<AuditEvent>, expectHead?: string): ChainVerification {
  const verifier = new ChainVerifier(expectHead);
  for (const event of events) if (!verifier.push(event)) break;
  return verifier.finish();
}

/**
 * `verifyChain` one event at a time, for a log read in batches from a store: `push` each event in
 * stored order until it returns false (the problem is found), then `finish`.
 */
export class ChainVerifier {
  private prevHash = GENESIS_HASH;
  private expectedSeq = 1;
  private count = 0;
  private sawExpected: boolean;
  // A gap is only known to be a removal once the missing events never turn up further on.
  private gap: { from: number; to: number } | undefined;
  private failed: ChainVerification | undefined;

  constructor(private readonly expectHead?: string) {
    this.sawExpected = expectHead === undefined || expectHead === GENESIS_HASH;
  }

  /** Checks the next event; false once the chain is known to be broken (further events are ignored). */
  push(event: AuditEvent): boolean {
    if (this.failed) return false;
    this.count++;
    if (event.seq < this.expectedSeq) {
      const seq = this.gap ? this.gap.from : event.seq;
      return this.fail({
        kind: 'reordered',
        seq,
        message: `event ${event.seq} is stored after event ${this.expectedSeq - 1}: the log was reordered`,
      });
    }
    if (hashEvent(event.prevHash, event) !== event.hash) {
      if (this.gap) return this.fail(removed(this.gap));
      return this.fail({
        kind: 'changed',
        seq: event.seq,
        message: `event ${event.seq} (${event.action}) was changed: its content no longer matches its hash`,
      });
    }
    if (event.seq > this.expectedSeq) {
      this.gap ??= { from: this.expectedSeq, to: event.seq - 1 };
    } else if (event.prevHash !== this.prevHash) {
      if (this.gap) return this.fail(removed(this.gap));
      return this.fail({
        kind: 'changed',
        seq: event.seq - 1,
        message: `event ${event.seq - 1} was rewritten: event ${event.seq} no longer links to it`,
      });
    }
    this.prevHash = event.hash;
    this.expectedSeq = event.seq + 1;
    if (!this.sawExpected && event.hash === this.expectHead) this.sawExpected = true;
    return true;
  }

  finish(): ChainVerification {
    if (this.failed) return this.failed;
    if (this.gap) return fail(this.count, this.prevHash, removed(this.gap));
    if (!this.sawExpected) {
      return fail(this.count, this.prevHash, {
        kind: 'head_mismatch',
        seq: this.expectedSeq - 1,
        message: `the expected head ${this.expectHead} is not in the chain: the log was truncated or rewritten after it was recorded`,
      });
    }
    return { ok: true, count: this.count, head: this.prevHash };
  }

  private fail(problem: ChainProblem): false {
    this.failed = fail(this.count, this.prevHash, problem);
    return false;
  }
}

function removed(g: { from: number; to: number }): ChainProblem {
  return {
    kind: 'removed',
    seq: g.from,
    message: `${g.to - g.from === 0 ? `event ${g.from}` : `events ${g.from}-${g.to}`} removed: event ${g.to + 1} links to a hash the log no longer has`,
  };
}

function fail(count: number, head: string, problem: ChainProblem): ChainVerification {
  return { ok: false, count, head, problem };
}
