import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { verifyChain } from '../../src/domain/audit.js';
import { CLAIM_BATCH } from '../../src/operations/run-jobs.js';
import { person, seedGrants } from './support/seed.js';

const CHILD = join(import.meta.dirname, 'support', 'sweep-child.ts');
const T0 = '2026-03-02T09:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const N = 60;

let dir: string;
let db: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-procs-'));
  db = join(dir, 'access.db');
  const store = SqliteStore.open(db);
  await seedGrants(
    store,
    Array.from({ length: N }, (_, i) => ({
      id: `grt_p${String(i).padStart(3, '0')}`,
      holder: person(i),
      activatedAt: T0,
      expiresAt: at(3600),
    })),
  );
  await store.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function child(mode: 'sweep' | 'die-mid-sweep', time: string, worker: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, db, join(dir, 'log.jsonl'), time, worker], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return once(proc, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as string | null,
    stderr,
  }));
}

function log(): Record<string, unknown>[] {
  const file = join(dir, 'log.jsonl');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
}

async function outcome() {
  const store = SqliteStore.open(db);
  try {
    const events = await store.auditEvents({ limit: 100_000 });
    return {
      statuses: new Set((await store.listGrants({ limit: 10_000 })).map((g) => `${g.status}/${g.revocationReason}`)),
      revoked: events.filter((e) => e.action === 'grant.revoked'),
      started: events.filter((e) => e.action === 'grant.revocationStarted'),
      chain: verifyChain(events),
    };
  } finally {
    await store.close();
  }
}

/** Jobs claimed and not finished (a dead worker's). */
async function claimedJobs(): Promise<number> {
  const store = SqliteStore.open(db);
  try {
    return (await store.listJobs({ status: ['running'] })).length;
  } finally {
    await store.close();
  }
}

describe('two processes sweeping one database', () => {
  it('revoke each expired grant exactly once', async () => {
    const [a, b] = await Promise.all([child('sweep', at(3601), 'proc-a'), child('sweep', at(3601), 'proc-b')]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const result = await outcome();
    expect(result.statuses).toEqual(new Set(['revoked/expired']));
    expect(result.revoked).toHaveLength(N);
    expect(result.started).toHaveLength(N);
    expect(new Set(result.revoked.map((e) => e.grantId)).size).toBe(N);
    expect(result.chain.ok).toBe(true);
    const removes = log().filter((e) => e.event === 'remove');
    expect(removes).toHaveLength(N);
    expect(new Set(removes.map((e) => e.personId)).size).toBe(N);
    const notes = log().filter((e) => e.event === 'notify');
    expect(notes).toHaveLength(N);
    expect(new Set(notes.map((e) => e.key)).size).toBe(N);
  });

  it('revoke once when the first process is killed mid-sweep and another takes over its claimed job', async () => {
    const dead = await child('die-mid-sweep', at(3601), 'proc-a');
    expect(dead.signal).toBe('SIGKILL');
    let result = await outcome();
    expect(result.revoked).toHaveLength(0); // the removal happened, its record did not
    // It had claimed a batch: the job it died in, and the ones it had not started.
    const claimed = await claimedJobs();
    expect(claimed).toBe(Math.min(N, CLAIM_BATCH));
    // Within the dead worker's locks, a new process revokes the rest but leaves the claimed ones.
    const early = await child('sweep', at(3601 + 60), 'proc-b');
    expect(early.code, early.stderr).toBe(0);
    expect((await outcome()).revoked).toHaveLength(N - claimed);
    // After the locks expire the claimed jobs are taken over; the one repeated removal is harmless.
    const late = await child('sweep', at(3601 + 301), 'proc-c');
    expect(late.code, late.stderr).toBe(0);
    result = await outcome();
    expect(result.statuses).toEqual(new Set(['revoked/expired']));
    expect(result.revoked).toHaveLength(N);
    expect(new Set(result.revoked.map((e) => e.grantId)).size).toBe(N);
    expect(result.chain.ok).toBe(true);
    const removes = log().filter((e) => e.event === 'remove');
    expect(removes).toHaveLength(N + 1);
    // Only the removal the dead process did was repeated.
    expect(removes.filter((e) => e.personId === removes[0]!.personId)).toHaveLength(2);
    expect(new Set(removes.map((e) => e.personId)).size).toBe(N);
  });
});
