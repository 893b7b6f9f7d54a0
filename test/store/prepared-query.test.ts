/** Queries drizzle builds once and better-sqlite3 runs: what the store contract does not reach. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWriter, type Connection } from '../../src/adapters/db/open-database.js';
import { limitInText } from '../../src/adapters/db/prepared-query.js';
import * as t from '../../src/adapters/db/schema.js';

let dir: string;
let c: Connection;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'prepared-query-'));
  c = openWriter(join(dir, 'access.db'));
});
afterEach(() => {
  c.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a prepared query', () => {
  it('decodes each column as drizzle does: JSON parsed, NULL as null, a joined table nested under its key', () => {
    c.db.insert(t.meta).values({ key: 'k', value: 'v', updatedAt: '2026-03-02T09:00:00.000Z' }).run();
    c.insert(t.jobs, {
      key: 'notify:1',
      kind: 'notify',
      payload: { kind: 'provision', grantId: 'grt_1' },
      status: 'pending',
      attempts: 0,
      runAt: '2026-03-02T09:00:00.000Z',
      createdAt: '2026-03-02T09:00:00.000Z',
      updatedAt: '2026-03-02T09:00:00.000Z',
    });
    const job = c
      .prepared('job', (db) =>
        db
          .select({ job: t.jobs, meta: { value: t.meta.value }, one: sql<number>`1`.mapWith(Number) })
          .from(t.jobs)
          .innerJoin(t.meta, eq(t.meta.key, sql.placeholder('metaKey')))
          .where(eq(t.jobs.key, sql.placeholder('key'))),
      )
      .get({ key: 'notify:1', metaKey: 'k' });
    expect(job).toMatchObject({
      job: { key: 'notify:1', payload: { kind: 'provision', grantId: 'grt_1' }, lockedBy: null, lastError: null },
      meta: { value: 'v' },
      one: 1,
    });
  });

  it('names a placeholder left without a value', () => {
    const statement = c.prepared('getJobByKey', (db) =>
      db
        .select()
        .from(t.jobs)
        .where(eq(t.jobs.key, sql.placeholder('key'))),
    );
    expect(() => statement.get({})).toThrow('No value for placeholder "key" was provided');
  });

  it('refuses an outer join, whose missing side it would not turn into null', () => {
    expect(() =>
      c.prepared('outer', (db) => db.select().from(t.jobs).leftJoin(t.meta, eq(t.meta.key, t.jobs.key))),
    ).toThrow(/outer join/);
  });

  it('writes only a whole, non-negative limit into its SQL text', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => limitInText(bad)).toThrow(RangeError);
    }
    for (const key of ['a', 'b', 'c']) c.insert(t.meta, { key, value: key, updatedAt: '2026-03-02T09:00:00.000Z' });
    const rows = c
      .prepared('metaFirst:2', (db) => db.select().from(t.meta).orderBy(t.meta.key).limit(limitInText(2)))
      .all()
      .map((row) => row.key);
    expect(rows).toEqual(['a', 'b']);
  });
});
