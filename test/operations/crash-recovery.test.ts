import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { verifyChain } from '../../src/domain/audit.js';

const CHILD = join(import.meta.dirname, '..', 'support', 'crash-child.ts');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-crash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function child(phase: string, at: string) {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, phase, join(dir, 'access.db'), join(dir, 'log.jsonl'), at],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(proc, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as string | null,
    stderr,
  }));
  return { proc, exited };
}

function logEntries(): Record<string, unknown>[] {
  const file = join(dir, 'log.jsonl');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
}

/** A request auto-approved: the grant and its jobs commit, and the process is killed before running any. */
async function commitIntentThenKill(): Promise<void> {
  const first = child('intent', '2026-03-02T09:00:00.000Z');
  await new Promise<void>((resolve, reject) => {
    first.proc.stdout.on('data', (d: Buffer) => d.toString().includes('committed') && resolve());
    void first.exited.then((e) => reject(new Error(`child exited early: ${e.stderr}`)));
  });
  first.proc.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
}

describe('a process killed between job intent and completion', () => {
  it('resumes at the next start: the grant is provisioned exactly once, with one notification', async () => {
    // 1. The request and its grant commit with their jobs; the process is killed before running any.
    await commitIntentThenKill();

    // 2. Restarted, it claims the provisioning job, adds the person to the group, and dies before recording it.
    const second = await child('effect-crash', '2026-03-02T09:01:00.000Z').exited;
    expect(second.signal).toBe('SIGKILL');
    let store = SqliteStore.open(join(dir, 'access.db'));
    const grant = (await store.listGrants({}))[0]!;
    expect(grant.status).toBe('provisioning');
    expect((await store.getJobByKey(`provision:${grant.id}`))!.status).toBe('running'); // claimed by the dead worker
    await store.close();

    // 3. Restarted after the dead worker's lock expired, it takes the job over and finishes.
    const third = await child('resume', '2026-03-02T09:10:00.000Z').exited;
    expect(third.code, third.stderr).toBe(0);

    store = SqliteStore.open(join(dir, 'access.db'));
    expect((await store.getGrant(grant.id))!.status).toBe('active');
    // recorded before the first add, not re-read after it
    expect((await store.getGrant(grant.id))!.alreadyMember).toBe(false);
    const events = await store.auditEvents({ limit: 1000 });
    expect(events.filter((e) => e.action === 'grant.activated')).toHaveLength(1);
    expect(events.filter((e) => e.action === 'grant.provisioned')).toHaveLength(1);
    expect(verifyChain(events).ok).toBe(true);
    expect(await store.listJobs({ status: ['pending', 'running', 'dead'] })).toEqual([]);
    await store.close();

    const entries = logEntries();
    // The provisioner call was repeated (safe: the add is idempotent), the state change recorded once...
    expect(entries.filter((e) => e.event === 'add').map((e) => e.phase)).toEqual(['effect-crash', 'resume']);
    // ...and every message went out exactly once, none from the killed processes.
    const notes = entries.filter((e) => e.event === 'notify');
    expect(notes.map((e) => e.type).sort()).toEqual(['grant.active', 'request.approved']);
    expect(new Set(notes.map((e) => e.key)).size).toBe(notes.length);
  });

  it('killed after an effect and before its record: that job runs again, the state it reports recorded first', async () => {
    await commitIntentThenKill();

    // One batch: the add, then the approval message. The add's record (the grant activated) is
    // committed before the message runs, since a message reports the state; the message's is not.
    const second = await child('batch-crash', '2026-03-02T09:01:00.000Z').exited;
    expect(second.signal, second.stderr).toBe('SIGKILL');
    let store = SqliteStore.open(join(dir, 'access.db'));
    const grant = (await store.listGrants({}))[0]!;
    expect(grant.status).toBe('active');
    expect((await store.listJobs({ status: ['running'] })).map((j) => j.key)).toEqual([
      `notify:approved:${grant.requestId}`,
    ]);
    expect((await store.getJobByKey(`provision:${grant.id}`))!.status).toBe('done');
    await store.close();

    // After the lock expired: the message again, under the same key; nothing recorded twice.
    const third = await child('resume', '2026-03-02T09:10:00.000Z').exited;
    expect(third.code, third.stderr).toBe(0);
    store = SqliteStore.open(join(dir, 'access.db'));
    expect((await store.getGrant(grant.id))!.status).toBe('active');
    const events = await store.auditEvents({ limit: 1000 });
    expect(events.filter((e) => e.action === 'grant.provisioned')).toHaveLength(1);
    expect(events.filter((e) => e.action === 'grant.activated')).toHaveLength(1);
    expect(verifyChain(events).ok).toBe(true);
    expect(await store.listJobs({ status: ['pending', 'running', 'dead'] })).toEqual([]);
    await store.close();

    const entries = logEntries();
    expect(entries.filter((e) => e.event === 'add').map((e) => e.phase)).toEqual(['batch-crash']);
    // The approval message went out again under the same key (the Slack notifier updates the message it posted
    // under a job's key rather than posting a second one); the activation message, recorded once, went out once.
    const approved = entries.filter((e) => e.event === 'notify' && e.type === 'request.approved');
    expect(approved.map((e) => e.phase)).toEqual(['batch-crash', 'resume']);
    expect(new Set(approved.map((e) => e.key)).size).toBe(1);
    expect(entries.filter((e) => e.event === 'notify' && e.type === 'grant.active')).toHaveLength(1);
  });
});
