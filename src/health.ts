/**
 * GET /healthz: whether the bot can do its job. The database must answer (else 503); the
 * directory's state is reported (a slow or unreachable Okta degrades the bot, it does not stop it)
 * and checked live at most every `directoryTtlMs`, so a busy probe cannot spend Okta's rate limit.
 */
import type { Runtime } from './runtime.js';

export interface Health {
  status: 'ok' | 'degraded' | 'failing';
  database: { ok: boolean; auditEvents?: number; auditHead?: string; error?: string };
  directory: { kind: string; reachable: boolean; checkedAt: string; error?: string };
  slack?: { mode: 'http' | 'socket' | 'sandbox'; teamId: string };
  pendingJobs?: number;
}

export function createHealthCheck(runtime: Runtime, options: { slack?: Health['slack']; directoryTtlMs?: number } = {}): () => Promise<{ status: number; body: Health }> {
  const { deps } = runtime;
  let directory: Health['directory'] | undefined;
  let checking: Promise<Health['directory']> | undefined;

  const checkDirectory = async (): Promise<Health['directory']> => {
    const checkedAt = deps.clock.now().toISOString();
    try {
      const group = await deps.directory.findGroup(deps.settings.adminGroup);
      return group ? { kind: deps.directory.kind, reachable: true, checkedAt } : { kind: deps.directory.kind, reachable: true, checkedAt, error: `admin group ${deps.settings.adminGroup} not found` };
    } catch (error) {
      return { kind: deps.directory.kind, reachable: false, checkedAt, error: error instanceof Error ? error.message : String(error) };
    }
  };

  return async () => {
    const database: Health['database'] = { ok: true };
    let pendingJobs: number | undefined;
    try {
      const head = deps.store.auditHead();
      database.auditEvents = head.seq;
      database.auditHead = head.hash;
      // One count on the jobs_due index: a backlog must not block the event loop (acks are due in 3 s).
      pendingJobs = deps.store.countJobs(['pending', 'running']);
    } catch (error) {
      database.ok = false;
      database.error = error instanceof Error ? error.message : String(error);
    }
    const stale = !directory || deps.clock.now().getTime() - Date.parse(directory.checkedAt) > (options.directoryTtlMs ?? 30_000);
    if (stale) {
      checking ??= checkDirectory().finally(() => (checking = undefined));
      directory = await checking;
    }
    const body: Health = {
      status: !database.ok ? 'failing' : directory!.reachable && !directory!.error ? 'ok' : 'degraded',
      database,
      directory: directory!,
      ...(options.slack ? { slack: options.slack } : {}),
      ...(pendingJobs === undefined ? {} : { pendingJobs }),
    };
    return { status: database.ok ? 200 : 503, body };
  };
}
