import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, verifyChain, ChainVerifier, hashEvent, type AuditEvent } from '../../src/domain/audit.js';
import {
  checkpointLine,
  checkpointPayload,
  CheckpointVerifier,
  ed25519PublicKey,
  keyIdOf,
  parseCheckpoints,
  type Checkpoint,
} from '../../src/domain/checkpoint.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keyId = keyIdOf(publicKey);

function chain(n: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body = {
      seq,
      at: `2026-03-02T09:00:${String(seq).padStart(2, '0')}.000Z`,
      actor: { kind: 'system' as const, component: 't' },
      action: 'policy.added' as const,
      requestId: null,
      grantId: null,
      details: { seq },
    };
    const hash = hashEvent(prev, body);
    events.push({ ...body, prevHash: prev, hash });
    prev = hash;
  }
  return events;
}

function checkpointOf(event: AuditEvent, key = privateKey): Checkpoint {
  const at = '2026-03-02T10:00:00.000Z';
  return {
    seq: event.seq,
    hash: event.hash,
    at,
    keyId,
    signature: sign(null, checkpointPayload({ seq: event.seq, hash: event.hash, at }), key).toString('base64'),
  };
}

/** The chain and checkpoint checks together, as `audit verify --checkpoints` runs them. */
function check(events: AuditEvent[], checkpoints: Checkpoint[]) {
  const chainCheck = new ChainVerifier();
  const verifier = new CheckpointVerifier(checkpoints, [publicKey]);
  for (const event of events) {
    if (!chainCheck.push(event)) break;
    verifier.push(event);
  }
  const result = chainCheck.finish();
  return verifier.finish(result.ok ? undefined : result.problem!.seq);
}

describe('checkpoints', () => {
  it('sign the canonical JSON of at, hash and seq: sorted keys, no whitespace', () => {
    expect(checkpointPayload({ seq: 12, hash: 'ab'.repeat(32), at: '2026-03-02T10:00:00.000Z' }).toString()).toBe(
      `{"at":"2026-03-02T10:00:00.000Z","hash":"${'ab'.repeat(32)}","seq":12}`,
    );
    const line = checkpointLine({
      seq: 1,
      hash: 'cd'.repeat(32),
      at: '2026-03-02T10:00:00.000Z',
      keyId: 'k',
      signature: 's',
    });
    expect(line).toBe(
      `{"at":"2026-03-02T10:00:00.000Z","hash":"${'cd'.repeat(32)}","key_id":"k","seq":1,"signature":"s"}`,
    );
  });

  it('are read from every form a SIEM or a person keeps, each once', () => {
    const events = chain(5);
    const a = checkpointOf(events[1]!);
    const b = checkpointOf(events[3]!);
    const wire = (c: Checkpoint) => JSON.parse(checkpointLine(c)) as Record<string, unknown>;
    const text = [
      checkpointLine(b), // bare, as `audit checkpoints` prints it: out of order on purpose
      JSON.stringify({ seq: 3, action: 'audit.checkpointed', details: wire(a), hash: 'x', prev_hash: 'y' }), // a json-format event
      JSON.stringify({
        class_uid: 3004,
        unmapped: { access_bot: { seq: 3, action: 'audit.checkpointed', details: wire(a) } },
      }), // OCSF
      JSON.stringify({
        time: 1,
        sourcetype: 'access-bot:audit',
        event: { seq: 5, action: 'audit.checkpointed', details: wire(b) },
      }), // HEC
      `access-bot APP 10:00 Audit checkpoint: the log held 2 events. \`\`\`${checkpointLine(a)}\`\`\``, // Slack, copied
      JSON.stringify({ seq: 4, action: 'grant.activated', details: {} }), // another event: skipped
      'Today',
      '',
    ].join('\n');
    const parsed = parseCheckpoints(text);
    expect(parsed.checkpoints.map((c) => [c.seq, c.line])).toEqual([
      [2, 2],
      [4, 1],
    ]);
    expect(parsed.checkpoints[0]).toMatchObject({ ...a, line: 2 });
    expect(parsed.skipped).toBe(2);
    expect(parsed.invalid).toEqual([]);
  });

  it('name a line that looks like a checkpoint but is not a valid one', () => {
    const parsed = parseCheckpoints(
      [
        '{"seq":2,"hash":"abc","at":"2026-03-02T10:00:00.000Z","signature":"x"}',
        '{"seq":-1,"hash":"' + 'a'.repeat(64) + '","signature":"x"}',
      ].join('\n'),
    );
    expect(parsed.invalid).toEqual([
      { line: 1, message: 'hash must be 64 hex digits' },
      { line: 2, message: 'seq must be a whole number' },
    ]);
  });

  it('hold when the log holds every checkpointed head, and name the first that fails otherwise', () => {
    const events = chain(10);
    const checkpoints = [checkpointOf(events[2]!), checkpointOf(events[6]!)];
    expect(check(events, checkpoints)).toEqual({ ok: true, verified: 2, failed: 0 });

    // Truncated after seq 5: the second checkpoint is beyond the end.
    expect(check(events.slice(0, 5), checkpoints)).toMatchObject({
      ok: false,
      failed: 1,
      problem: { kind: 'missing', checkpoint: { seq: 7 } },
    });
    // Another log altogether (consistent in itself): the first checkpoint already fails.
    const replaced = chain(10);
    replaced.forEach((e, i) => {
      const prev = i === 0 ? GENESIS_HASH : replaced[i - 1]!.hash;
      e.details = { seq: e.seq, other: true };
      e.prevHash = prev;
      e.hash = hashEvent(prev, e);
    });
    expect(verifyChain(replaced).ok).toBe(true);
    expect(check(replaced, checkpoints)).toMatchObject({
      ok: false,
      failed: 2,
      problem: { kind: 'hash_mismatch', checkpoint: { seq: 3 } },
    });
    // An event changed without re-chaining: the chain breaks, and checkpoints from there on cannot hold.
    const edited = events.map((e) => (e.seq === 5 ? { ...e, details: { seq: 5, edited: true } } : e));
    expect(check(edited, checkpoints)).toMatchObject({
      ok: false,
      failed: 1,
      problem: { kind: 'chain_broken', checkpoint: { seq: 7 } },
    });
  });

  it('fail when no key given signed them, before anything else is said about them', () => {
    const events = chain(4);
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const forged = checkpointOf(events[1]!, stranger);
    const tampered = { ...checkpointOf(events[3]!), seq: 3, hash: events[2]!.hash };
    const result = check(events, [forged, tampered]);
    expect(result).toMatchObject({ ok: false, failed: 2, problem: { kind: 'bad_signature', checkpoint: { seq: 2 } } });
    expect(result.problem!.message).toMatch(
      /^the checkpoint of seq 2 signed at 2026-03-02T10:00:00.000Z: the signature is not valid for the public key \(it names key [0-9a-f]{16}\)/,
    );
  });

  it('read public keys from PEM, and refuse a key of another kind', () => {
    expect(keyIdOf(ed25519PublicKey(publicKey.export({ type: 'spki', format: 'pem' }).toString()))).toBe(keyId);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    expect(() => ed25519PublicKey(rsa)).toThrow('the key is rsa, not Ed25519');
    expect(() => ed25519PublicKey('not a key')).toThrow(/^not a PEM public or private key/);
  });
});
