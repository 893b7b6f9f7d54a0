/**
 * GET /healthz: whether the bot can do its job. The database must answer (else 503); the
 * directory's state is reported (a slow or unreachable Okta degrades the bot, it does not stop it)
 * and checked live at most every `directoryTtlMs`, so a busy probe cannot spend Okta's rate limit.
 * The rows per table (what grows; see the README's housekeeping) are counted at most every
 * `tablesTtlMs`: exact counts read every table's smallest index, so a probe every second must not
 * pay for them each time.
 */
import type { Deps } from './operations/context.js';

export interface Health {
  status: 'ok' | 'degraded' | 'failing';
  database: { ok: boolean; kind: string; auditEvents?: number; auditHead?: string; error?: string };
  directory: { kind: string; reachable: boolean; checkedAt: string; error?: string };
  slack?: { mode: 'http' | 'socket' | 'sandbox'; teamId: string };
  pendingJobs?: number;
  /** Rows per table, as counted at `tablesCountedAt` (at most `tablesTtlMs` ago). */
  tables?: Record<string, number>;
  tablesCountedAt?: string;
  /** Each audit sink: where its cursor is and how far behind the log it is (`lag`, in events). */
  auditSinks?: HealthSink[];
  /** The last signed checkpoint of the audit chain. */
  auditCheckpoint?: { seq: number; at: string; keyId: string } | null;
}

export interface HealthSink {
  name: string;
  type: string;
  format: string;
  deliveredSeq: number;
  lag: number;
  deliveredAt: string | null;
  failingSince: string | null;
  lastError: string | null;
}

export interface HealthOptions {
  /** The Slack connection as it is when the probe arrives (not connected yet: undefined). */
  slack?: () => Health['slack'] | undefined;
  directoryTtlMs?: number;
  tablesTtlMs?: number;
}

export function createHealthCheck(
  deps: Pick<Deps, 'store' | 'directory' | 'settings' | 'clock'>,
  options: HealthOptions = {},
): () => Promise<{ status: number; body: Health }> {
  let directory: Health['directory'] | undefined;
  let checking: Promise<Health['directory']> | undefined;
  let tables: { counts: Record<string, number>; at: string } | undefined;
  let counting: Promise<{ counts: Record<string, number>; at: string }> | undefined;

  const checkDirectory = async (): Promise<Health['directory']> => {
    const checkedAt = deps.clock.now().toISOString();
    try {
      const group = await deps.directory.findGroup(deps.settings.adminGroup);
      return group
        ? { kind: deps.directory.kind, reachable: true, checkedAt }
        : {
            kind: deps.directory.kind,
            reachable: true,
            checkedAt,
            error: `admin group ${deps.settings.adminGroup} not found`,
          };
    } catch (error) {
      return {
        kind: deps.directory.kind,
        reachable: false,
        checkedAt,
        error: error instanceof Error ? error.message : String(error),
      };
    }
  };

  return async () => {
    const database: Health['database'] = { ok: true, kind: deps.store.kind };
    let pendingJobs: number | undefined;
    let stream: Pick<Health, 'auditSinks' | 'auditCheckpoint'> = {};
    try {
      const head = await deps.store.auditHead();
      database.auditEvents = head.seq;
      database.auditHead = head.hash;
      // One count on the jobs_due index: a backlog must not block the event loop (acks are due in 3 s).
      pendingJobs = await deps.store.countJobs(['pending', 'running']);
      stream = await auditStream(deps, head.seq);
      const now = deps.clock.now();
      if (!tables || now.getTime() - Date.parse(tables.at) > (options.tablesTtlMs ?? 60_000)) {
        // Probes arriving while the count runs share it (as the directory check below).
        counting ??= deps.store
          .tableSizes()
          .then((counts) => ({ counts, at: now.toISOString() }))
          .finally(() => (counting = undefined));
        tables = await counting;
      }
    } catch (error) {
      database.ok = false;
      database.error = error instanceof Error ? error.message : String(error);
    }
    const stale =
      !directory || deps.clock.now().getTime() - Date.parse(directory.checkedAt) > (options.directoryTtlMs ?? 30_000);
    if (stale) {
      checking ??= checkDirectory().finally(() => (checking = undefined));
      directory = await checking;
    }
    const slack = options.slack?.();
    // A sink failing past its alert threshold degrades the bot: evidence is not reaching the SIEM.
    const now = deps.clock.now().getTime();
    const sinkDown = (stream.auditSinks ?? []).some((sink) => {
      const alertAfter = deps.settings.auditSinks.find((s) => s.name === sink.name)?.alertAfterSeconds ?? Infinity;
      return sink.failingSince !== null && now - Date.parse(sink.failingSince) >= alertAfter * 1000;
    });
    const body: Health = {
      status: !database.ok ? 'failing' : directory!.reachable && !directory!.error && !sinkDown ? 'ok' : 'degraded',
      database,
      directory: directory!,
      ...(slack ? { slack } : {}),
      ...(pendingJobs === undefined ? {} : { pendingJobs }),
      ...stream,
      ...(database.ok && tables ? { tables: tables.counts, tablesCountedAt: tables.at } : {}),
    };
    return { status: database.ok ? 200 : 503, body };
  };
}

/** The configured sinks' cursors against the head, and the last checkpoint: two small reads. */
async function auditStream(
  deps: Pick<Deps, 'store' | 'settings'>,
  headSeq: number,
): Promise<Pick<Health, 'auditSinks' | 'auditCheckpoint'>> {
  const configured = deps.settings.auditSinks;
  const states = configured.length ? new Map((await deps.store.auditSinkStates()).map((s) => [s.name, s])) : new Map();
  const last = await deps.store.latestAuditCheckpoint();
  return {
    ...(configured.length
      ? {
          auditSinks: configured.map((sink) => {
            const state = states.get(sink.name);
            const deliveredSeq = state?.deliveredSeq ?? 0;
            return {
              name: sink.name,
              type: sink.type,
              format: sink.format,
              deliveredSeq,
              lag: Math.max(0, headSeq - deliveredSeq),
              deliveredAt: state?.deliveredAt ?? null,
              failingSince: state?.failingSince ?? null,
              lastError: state?.lastError ?? null,
            };
          }),
        }
      : {}),
    auditCheckpoint: last ? { seq: last.seq, at: last.at, keyId: last.keyId } : null,
  };
}
