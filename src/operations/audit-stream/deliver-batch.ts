/**
 * One step of the audit stream for one sink: the next batch after the sink's cursor, sent, and
 * the cursor moved only once the sink confirmed it.
 *
 * Why nothing is lost or reordered:
 * - The stream reads the log (committed events, by seq), never the transactions that write it: a
 *   decision never waits for a sink, and an event is streamed only once it is committed.
 * - One batch at a time per sink, in seq order; the cursor moves (a conditional update from where
 *   it was read) only after `deliver` resolved. A failure, a crash or a restart mid-batch leaves
 *   the cursor where it was, so the same batch is sent again, whole: at most that batch repeats,
 *   and a receiver dedupes by seq.
 * - Two processes streaming one sink (a lease that lapsed) both send; only one moves the cursor,
 *   the other learns it lost and stops.
 *
 * Failures are retried with backoff; a sink failing longer than its `alert_after` alerts the alerts
 * channel once, then hourly while it fails, and says when it recovered.
 */
import type { AuditSinkSettings, AuditSinkState } from '../../domain/audit-sinks.js';
import { describeDuration } from '../../domain/duration.js';
import { TransientError } from '../../domain/errors.js';
import type { Deps } from '../context.js';
import { alert } from '../lifecycle.js';
import type { AuditSink } from '../ports.js';
import { NO_SUBJECTS, type AuditSubjects } from './records.js';

export type StreamDeps = Pick<Deps, 'store' | 'clock' | 'settings' | 'logger'>;

export type StreamStep =
  /** A batch was confirmed and the cursor moved to `to`; `more`: events are waiting after it. */
  | { kind: 'delivered'; from: number; to: number; count: number; more: boolean }
  /** Nothing after the cursor. */
  | { kind: 'idle'; at: number }
  /** The sink did not confirm; try again in `retryInMs`. */
  | { kind: 'failed'; from: number; error: string; failures: number; retryInMs: number }
  /** Another process moved the cursor meanwhile: it streams this sink now. */
  | { kind: 'overtaken'; from: number };

/** Backoff after the n-th failure in a row: 1 s doubling to 5 min, give or take a fifth. */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.max(0, failures - 1), 5 * 60_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** How often a sink that keeps failing is mentioned again in the alerts channel. */
const REALERT_SECONDS = 3600;

export interface StreamOptions {
  /** The longest wait between two attempts after failures (default 5 min). */
  maxRetryMs?: number;
}

export async function deliverNextBatch(
  deps: StreamDeps,
  sink: AuditSink,
  settings: AuditSinkSettings,
  options: StreamOptions = {},
): Promise<StreamStep> {
  const state = (await deps.store.auditSinkStates()).find((s) => s.name === sink.name);
  const from = state?.deliveredSeq ?? 0;
  const events = await deps.store.auditEventsAfterSeq(from, settings.batchSize);
  if (events.length === 0) return { kind: 'idle', at: from };
  const last = events[events.length - 1]!;

  try {
    const subjects = sink.needsSubjects ? await subjectsOf(deps, events) : NO_SUBJECTS;
    await sink.deliver({ events, subjects });
  } catch (error) {
    return recordFailure(deps, sink, settings, state, from, error, options);
  }

  const now = deps.clock.now().toISOString();
  const moved = await deps.store.transaction(async (tx) => {
    const ok = await tx.updateAuditSink(sink.name, from, {
      deliveredSeq: last.seq,
      deliveredAt: now,
      failingSince: null,
      failures: 0,
      lastError: null,
      alertedAt: null,
      updatedAt: now,
    });
    if (ok && state?.alertedAt && state.failingSince) {
      const outage = describeDuration((Date.parse(now) - Date.parse(state.failingSince)) / 1000);
      await alert(
        tx,
        now,
        deps.settings.alertsChannel,
        `audit-sink:${sink.name}:recovered:${state.failingSince}`,
        `Audit sink ${sink.name} (${sink.type} to ${sink.target}) recovered at ${now}: it was failing since ${state.failingSince} (${outage}). ` +
          'Delivery has resumed in order from where it stopped; no event was lost.',
      );
    }
    return ok;
  });
  if (!moved) return { kind: 'overtaken', from };
  if (state?.failingSince)
    deps.logger.info('audit sink recovered', { sink: sink.name, failingSince: state.failingSince });
  return { kind: 'delivered', from, to: last.seq, count: events.length, more: events.length === settings.batchSize };
}

async function recordFailure(
  deps: StreamDeps,
  sink: AuditSink,
  settings: AuditSinkSettings,
  state: AuditSinkState | undefined,
  from: number,
  error: unknown,
  options: StreamOptions,
): Promise<StreamStep> {
  const message = error instanceof Error ? error.message : String(error);
  const now = deps.clock.now().toISOString();
  const failingSince = state?.failingSince ?? now;
  const failures = (state?.failures ?? 0) + 1;
  const failingFor = (Date.parse(now) - Date.parse(failingSince)) / 1000;
  const lastAlert = state?.alertedAt ?? null;
  const due =
    failingFor >= settings.alertAfterSeconds &&
    (lastAlert === null || Date.parse(now) - Date.parse(lastAlert) >= REALERT_SECONDS * 1000);
  const waiting = due ? (await deps.store.auditHead()).seq - from : 0;

  const recorded = await deps.store.transaction(async (tx) => {
    const ok = await tx.updateAuditSink(sink.name, from, {
      failingSince,
      failures,
      lastError: message.slice(0, 1000),
      ...(due ? { alertedAt: now } : {}),
      updatedAt: now,
    });
    if (ok && due) {
      const still = lastAlert === null ? 'has been failing' : 'is still failing';
      await alert(
        tx,
        now,
        deps.settings.alertsChannel,
        `audit-sink:${sink.name}:failing:${failingSince}:${now}`,
        `Audit sink ${sink.name} (${sink.type} to ${sink.target}) ${still} since ${failingSince} ` +
          `(${describeDuration(failingFor)}, ${failures} attempts): ${message}. ${waiting} event${waiting === 1 ? ' is' : 's are'} waiting; ` +
          'none is lost: they are delivered in order once the sink answers again. ' +
          (lastAlert === null ? 'You will hear hourly while it fails, and when it recovers.' : ''),
      );
    }
    return ok;
  });
  if (!recorded) return { kind: 'overtaken', from };
  const retryAfter = error instanceof TransientError ? error.retryAfterMs : undefined;
  const retryInMs = Math.min(Math.max(retryAfter ?? 0, backoffMs(failures)), options.maxRetryMs ?? Infinity);
  deps.logger.warn('audit sink delivery failed; retrying', {
    sink: sink.name,
    fromSeq: from,
    failures,
    retryInMs,
    error: message,
  });
  return { kind: 'failed', from, error: message, failures, retryInMs };
}

/** The requests and grants a batch names, read in two queries. */
async function subjectsOf(
  deps: StreamDeps,
  events: readonly { requestId: string | null; grantId: string | null }[],
): Promise<AuditSubjects> {
  const grantIds = [...new Set(events.map((e) => e.grantId).filter((id): id is string => id !== null))];
  const grants = new Map((await deps.store.getGrants(grantIds)).map((g) => [g.id, g]));
  const requestIds = new Set(events.map((e) => e.requestId).filter((id): id is string => id !== null));
  for (const grant of grants.values()) requestIds.add(grant.requestId);
  const requests = new Map((await deps.store.getRequests([...requestIds])).map((r) => [r.id, r]));
  return { requests, grants };
}
