/**
 * Signed checkpoints end to end: written by the streamer's schedule into the log, a file sink and
 * the checkpoint channel; verified with the public key alone; and `audit verify --checkpoints`
 * against the real database and against a truncated, an edited (and re-chained) and a different one.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointMessage } from '../../blocks/checkpoint-message.js';
import { AuditStreamer } from '../../src/adapters/audit-stream/audit-streamer.js';
import { ed25519Signer } from '../../src/adapters/audit-stream/ed25519-signer.js';
import { FileSink } from '../../src/adapters/audit-stream/file-sink.js';
import { canonicalJson } from '../../src/domain/canonical.js';
import { hashEvent, GENESIS_HASH, type Actor } from '../../src/domain/audit.js';
import type { FileSinkSettings } from '../../src/domain/audit-sinks.js';
import { writeCheckpointIfDue } from '../../src/operations/audit-stream/write-checkpoint.js';
import type { CheckpointSigner } from '../../src/operations/ports.js';
import { cli, EXAMPLE_ENV } from '../cli/helpers.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';
import { withRawSqlite } from '../support/raw-sqlite.js';
import { grantsExpired, grantsGiven } from './lifecycle-events.js';

const EVERY = { everySeconds: 3600, channel: 'C0AUDITWITNESS' };

function newSigner(): { signer: CheckpointSigner; privatePem: string; publicPem: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const signer = ed25519Signer(privatePem);
  return { signer, privatePem, publicPem: signer.publicKeyPem };
}

let h: Harness;
let dir: string;
beforeEach(() => {
  h = createHarness();
  dir = mkdtempSync(join(tmpdir(), 'checkpoints-'));
});
afterEach(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('signed checkpoints', () => {
  it('sign the canonical JSON of seq, hash and at, go into the log, the channel and the store, and verify with the public key alone', async () => {
    const { signer, publicPem } = newSigner();
    expect(await writeCheckpointIfDue(h.deps, signer, EVERY)).toEqual({ kind: 'unchanged' }); // an empty log
    await grantsGiven(h);
    const head = await h.store.auditHead();
    const outcome = await writeCheckpointIfDue(h.deps, signer, EVERY);
    if (outcome.kind !== 'written') throw new Error(outcome.kind);
    const { checkpoint } = outcome;
    expect(checkpoint).toMatchObject({
      seq: head.seq,
      hash: head.hash,
      at: h.clock.now().toISOString(),
      keyId: signer.keyId,
      eventSeq: head.seq + 1,
    });

    // Anyone with the public key checks it, rebuilding the signed bytes from the three values.
    const signed = `{"at":"${checkpoint.at}","hash":"${checkpoint.hash}","seq":${checkpoint.seq}}`;
    expect(
      verify(null, Buffer.from(signed), createPublicKey(publicPem), Buffer.from(checkpoint.signature, 'base64')),
    ).toBe(true);
    expect(
      verify(
        null,
        Buffer.from(signed.replace(`"seq":${checkpoint.seq}`, `"seq":${checkpoint.seq - 1}`)),
        createPublicKey(publicPem),
        Buffer.from(checkpoint.signature, 'base64'),
      ),
    ).toBe(false);

    // The log holds it as its next event; the channel gets it as a message; the store lists it.
    const [event] = await h.store.auditEventsAfterSeq(head.seq, 1);
    expect(event).toMatchObject({ action: 'audit.checkpointed', actor: { kind: 'system', component: 'checkpoint' } });
    expect(event!.details).toEqual({
      at: checkpoint.at,
      hash: checkpoint.hash,
      key_id: signer.keyId,
      seq: checkpoint.seq,
      signature: checkpoint.signature,
    });
    await h.runJobs();
    expect(h.notifier.of('audit.checkpoint')).toEqual([
      {
        type: 'audit.checkpoint',
        recipient: { kind: 'channel', channel: 'C0AUDITWITNESS' },
        checkpoint: event!.details,
      },
    ]);
    expect(await h.store.auditCheckpoints()).toEqual([checkpoint]);

    // Not again before the interval; after it only if the log moved past the checkpoint's own event.
    h.clock.advance(1800);
    expect(await writeCheckpointIfDue(h.deps, signer, EVERY)).toEqual({
      kind: 'not_due',
      dueAt: new Date(Date.parse(checkpoint.at) + 3600_000).toISOString(),
    });
    h.clock.advance(1800);
    expect(await writeCheckpointIfDue(h.deps, signer, EVERY)).toEqual({ kind: 'unchanged' });
    await grantsExpired(h);
    expect((await writeCheckpointIfDue(h.deps, signer, EVERY)).kind).toBe('written');
  });

  it('are written by the audit streamer on schedule and reach every sink as events', async () => {
    const { signer } = newSigner();
    const path = join(dir, 'siem.jsonl');
    const settings: FileSinkSettings = {
      type: 'file',
      name: 'archive',
      path,
      format: 'json',
      batchSize: 100,
      alertAfterSeconds: 900,
      maxBytes: 1 << 20,
      keep: 2,
    };
    await grantsGiven(h);
    const streamer = new AuditStreamer(h.deps, {
      sinks: [{ sink: new FileSink(settings), settings }],
      checkpoints: { signer, settings: EVERY },
      pollMs: 20,
      checkpointCheckMs: 20,
    });
    const checkpoints = new Promise<number>((resolve) =>
      streamer.onEvent((e) => e.kind === 'checkpoint' && resolve(e.seq)),
    );
    streamer.start();
    try {
      const seq = await checkpoints;
      const head = await h.store.auditHead();
      expect(head.seq).toBe(seq + 1);
      await untilEvent(
        streamer,
        () => existsSync(path) && readFileSync(path, 'utf8').trim().split('\n').length === head.seq,
      );
      const lines = readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seq: number; action: string; details: unknown });
      expect(lines.at(-1)).toMatchObject({
        seq: head.seq,
        action: 'audit.checkpointed',
        details: { seq, key_id: signer.keyId },
      });
    } finally {
      await streamer.stop();
    }
  });
});

describe('audit verify --checkpoints', () => {
  /** A history with two checkpoints and events after the last one; the SIEM's copy in a file. */
  async function history(): Promise<{ keyFile: string; siemFile: string; checkpointSeqs: number[] }> {
    const { signer, publicPem } = newSigner();
    await grantsGiven(h);
    await writeCheckpointIfDue(h.deps, signer, EVERY);
    await grantsExpired(h);
    await writeCheckpointIfDue(h.deps, signer, EVERY);
    await grantsGiven(h); // more after the last checkpoint
    const siemFile = join(dir, 'siem.jsonl');
    // What the SIEM kept: the whole stream from a file sink (checkpoint events among the others).
    const sink = new FileSink({
      type: 'file',
      name: 'siem',
      path: siemFile,
      format: 'json',
      batchSize: 1000,
      alertAfterSeconds: 900,
      maxBytes: 1 << 30,
      keep: 1,
    });
    await sink.deliver({
      events: await h.store.auditEventsAfterSeq(0, 10_000),
      subjects: { requests: new Map(), grants: new Map() },
    });
    await sink.close();
    const keyFile = join(dir, 'audit-key.pem');
    writeFileSync(keyFile, publicPem);
    return { keyFile, siemFile, checkpointSeqs: (await h.store.auditCheckpoints()).map((c) => c.seq) };
  }

  const verifyCopy = (db: string, file: string, key: string) =>
    cli(['audit', 'verify', '--checkpoints', file, '--public-key', key], { ...EXAMPLE_ENV, DATABASE_PATH: db });

  it('passes on the real database', async () => {
    const { keyFile, siemFile, checkpointSeqs } = await history();
    const out = await verifyCopy(h.dbPath, siemFile, keyFile);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^audit chain intact: \d+ events\nhead [0-9a-f]{64}\n/);
    expect(out.stdout).toContain(
      `checkpoints hold: 2 checkpoints from ${siemFile} (${(await h.store.auditHead()).seq - 2} other lines skipped), seq ${checkpointSeqs[0]} to ${checkpointSeqs[1]}`,
    );
  });

  it('fails on a truncated copy, naming the first checkpoint the log no longer reaches', async () => {
    const { keyFile, siemFile, checkpointSeqs } = await history();
    const copy = snapshot('truncated.db');
    // Cut the log back to before the second checkpoint's head: its own hashes stay consistent.
    withRawSqlite(copy, (db) => db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(checkpointSeqs[1]! - 2));
    expect((await cli(['audit', 'verify'], { ...EXAMPLE_ENV, DATABASE_PATH: copy })).code).toBe(0);
    const out = await verifyCopy(copy, siemFile, keyFile);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`checkpoint FAILED: the checkpoint of seq ${checkpointSeqs[1]} signed at`);
    expect(out.stdout).toContain(
      `the log ends at seq ${checkpointSeqs[1]! - 3}, before this checkpoint's seq ${checkpointSeqs[1]}: the log was truncated`,
    );
    expect(out.stdout).toContain('1 of 2 checkpoints fail');
  });

  it('fails on an edited copy whose chain was recomputed, naming the first checkpoint after the edit', async () => {
    const { keyFile, siemFile, checkpointSeqs } = await history();
    const copy = snapshot('edited.db');
    rewriteFrom(copy, 3, (details) => ({ ...details, justification: 'nothing to see here' }));
    // The rewritten log is consistent in itself: without checkpoints, nothing shows.
    const plain = await cli(['audit', 'verify'], { ...EXAMPLE_ENV, DATABASE_PATH: copy });
    expect(plain.stdout).toMatch(/^audit chain intact/);
    const out = await verifyCopy(copy, siemFile, keyFile);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(
      new RegExp(
        `checkpoint FAILED: the checkpoint of seq ${checkpointSeqs[0]} signed at \\S+ \\(line ${checkpointSeqs[0]! + 1}\\): the log holds a different event at seq ${checkpointSeqs[0]}.*the log was rewritten or replaced`,
      ),
    );
    expect(out.stdout).toContain('2 of 2 checkpoints fail');
  });

  it('fails on a different database, and on checkpoints the key did not sign', async () => {
    const { keyFile, siemFile, checkpointSeqs } = await history();
    const other = createHarness();
    try {
      await grantsGiven(other);
      await grantsExpired(other);
      await grantsGiven(other);
      const out = await verifyCopy(other.dbPath, siemFile, keyFile);
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(
        new RegExp(
          `^checkpoint FAILED: the checkpoint of seq ${checkpointSeqs[0]} .*a different event at seq ${checkpointSeqs[0]}`,
          'm',
        ),
      );
    } finally {
      await other.close();
    }
    const stranger = join(dir, 'stranger.pem');
    writeFileSync(stranger, newSigner().publicPem);
    const forged = await verifyCopy(h.dbPath, siemFile, stranger);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(
      /checkpoint FAILED: the checkpoint of seq \d+ .*: the signature is not valid for the public key \(it names key [0-9a-f]{16}\)/,
    );
  });

  it('works from the checkpoint channel: the messages copied into a file', async () => {
    const { keyFile } = await history();
    await h.runJobs();
    const posted = h.notifier.of('audit.checkpoint').map((n) =>
      checkpointMessage({
        line: canonicalJson(n.checkpoint),
        seq: n.checkpoint.seq,
        hash: n.checkpoint.hash,
        at: n.checkpoint.at,
        keyId: n.checkpoint.key_id,
        timezone: 'UTC',
      }),
    );
    expect(posted).toHaveLength(2);
    // What an auditor copies from Slack: each message's text, with the chat around it.
    const copied = join(dir, 'from-slack.txt');
    writeFileSync(copied, posted.map((m) => `access-bot  APP  10:00\n${m.text}\n`).join('\n'));
    const out = await verifyCopy(h.dbPath, copied, keyFile);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/checkpoints hold: 2 checkpoints from .*from-slack\.txt \(2 other lines skipped\)/);
  });

  it('lists the recorded checkpoints and prints the public key from AUDIT_SIGNING_KEY', async () => {
    const { signer, privatePem, publicPem } = newSigner();
    await grantsGiven(h);
    await writeCheckpointIfDue(h.deps, signer, EVERY);
    const env = {
      ...EXAMPLE_ENV,
      DATABASE_PATH: h.dbPath,
      AUDIT_SIGNING_KEY: privatePem.trim().replaceAll('\n', '\\n'),
    };
    const key = await cli(['audit', 'public-key'], env);
    expect(key).toMatchObject({
      code: 0,
      stdout: publicPem,
      stderr: `key id ${signer.keyId} (from AUDIT_SIGNING_KEY)\n`,
    });
    const listed = await cli(['audit', 'checkpoints'], env);
    const [checkpoint] = await h.store.auditCheckpoints();
    expect(listed.stdout).toBe(
      `${canonicalJson({ at: checkpoint!.at, hash: checkpoint!.hash, key_id: checkpoint!.keyId, seq: checkpoint!.seq, signature: checkpoint!.signature })}\n`,
    );
    const file = join(dir, 'listed.jsonl');
    writeFileSync(file, listed.stdout);
    // The key defaults to AUDIT_SIGNING_KEY's.
    expect((await cli(['audit', 'verify', '--checkpoints', file], env)).code).toBe(0);
    // Production without a key: nothing to print.
    expect(
      await cli(['audit', 'public-key'], {
        ...EXAMPLE_ENV,
        AUDIT_SIGNING_KEY: undefined,
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_SIGNING_SECRET: 's',
      }),
    ).toMatchObject({
      code: 1,
      stderr: 'no signing key: AUDIT_SIGNING_KEY is not set, so no checkpoints are signed\n',
    });
  });

  function snapshot(name: string): string {
    const copy = join(dir, name);
    withRawSqlite(h.dbPath, (db) => db.pragma('wal_checkpoint(TRUNCATE)'));
    copyFileSync(h.dbPath, copy);
    return copy;
  }
});

/**
 * What someone who can write the database file does: changes an event's details and recomputes
 * every hash after it, so the chain is consistent again (security review M4).
 */
function rewriteFrom(
  path: string,
  seq: number,
  edit: (details: Record<string, unknown>) => Record<string, unknown>,
): void {
  withRawSqlite(path, (db) => {
    const rows = db
      .prepare('SELECT id, seq, at, actor, action, request_id, grant_id, details FROM audit_events ORDER BY id')
      .all() as {
      id: number;
      seq: number;
      at: string;
      actor: string;
      action: string;
      request_id: string | null;
      grant_id: string | null;
      details: string;
    }[];
    let prev = GENESIS_HASH;
    const update = db.prepare('UPDATE audit_events SET details = ?, prev_hash = ?, hash = ? WHERE id = ?');
    for (const row of rows) {
      const details =
        row.seq === seq
          ? edit(JSON.parse(row.details) as Record<string, unknown>)
          : (JSON.parse(row.details) as Record<string, unknown>);
      const event = {
        seq: row.seq,
        at: row.at,
        actor: JSON.parse(row.actor) as Actor,
        action: row.action as never,
        requestId: row.request_id,
        grantId: row.grant_id,
        details,
      };
      const hash = hashEvent(prev, event);
      update.run(canonicalJson(details), prev, hash, row.id);
      prev = hash;
    }
  });
}

/** Resolves once `check()` holds: checked now, then after each thing the streamer does. */
function untilEvent(streamer: AuditStreamer, check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = streamer.onEvent(() => {
      if (!check()) return;
      stop();
      resolve();
    });
  });
}
