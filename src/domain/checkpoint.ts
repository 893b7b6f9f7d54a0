/**
 * Signed checkpoints: an anchor for the audit chain outside the database.
 *
 * The hash chain proves the log was not edited only against a head someone kept: whoever can write
 * the database can rewrite every event from the first and re-chain the rest. A checkpoint is a
 * statement "the log held `seq` events, the last with hash `hash`, at time `at`", signed with an
 * Ed25519 key the database does not hold. Copies go to every sink, the checkpoint channel and the
 * log itself; `audit verify --checkpoints FILE` then checks a database against the copies a SIEM
 * or the channel kept: a truncated, edited or replaced log cannot hold every signed head.
 *
 * The signed bytes are the canonical JSON of `{at, hash, seq}` (keys sorted, no whitespace, UTF-8),
 * so any language can rebuild them. Pure: no I/O (node:crypto's verify is computation).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, sha256Hex } from './canonical.js';
import { GENESIS_HASH, type AuditEvent } from './audit.js';

/** A checkpoint as it travels: to sinks (the `audit.checkpointed` event's details), Slack, files. */
export interface Checkpoint {
  seq: number;
  hash: string;
  /** When it was signed: UTC, ISO 8601. */
  at: string;
  /** Ed25519 signature over `checkpointPayload`, base64. */
  signature: string;
  /** Which key signed it: see `keyIdOf`. */
  keyId: string;
}

/** A checkpoint as the store keeps it: with the seq of the `audit.checkpointed` event that logged it. */
export interface CheckpointRecord extends Checkpoint {
  eventSeq: number;
}

/** The bytes an Ed25519 key signs: canonical JSON of seq, hash and at. */
export function checkpointPayload(head: { seq: number; hash: string; at: string }): Buffer {
  return Buffer.from(canonicalJson({ at: head.at, hash: head.hash, seq: head.seq }), 'utf8');
}

/**
 * The checkpoint's wire form, one JSON object with sorted keys: what the event's details hold, what
 * the channel shows and what `audit checkpoints` prints, one per line.
 */
export type CheckpointWire = {
  at: string;
  hash: string;
  key_id: string;
  seq: number;
  signature: string;
};

export function checkpointWire(checkpoint: Checkpoint): CheckpointWire {
  return {
    at: checkpoint.at,
    hash: checkpoint.hash,
    key_id: checkpoint.keyId,
    seq: checkpoint.seq,
    signature: checkpoint.signature,
  };
}

export function checkpointLine(checkpoint: Checkpoint): string {
  return canonicalJson(checkpointWire(checkpoint));
}

/** A key's id: the first 16 hex digits of the SHA-256 of its public key (SubjectPublicKeyInfo, DER). */
export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

/** A public key for verifying, from PEM; throws a readable error for anything but an Ed25519 key. */
export function ed25519PublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new Error(`not a PEM public or private key: ${(error as Error).message}`, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`the key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  return key;
}

/** Whether `key` signed this checkpoint. A malformed signature is simply not a valid one. */
function checkpointSignedBy(checkpoint: Checkpoint, key: KeyObject): boolean {
  const signature = Buffer.from(checkpoint.signature, 'base64');
  if (signature.length !== 64) return false;
  try {
    return verify(null, checkpointPayload(checkpoint), key, signature);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading checkpoints back from what a SIEM or the channel kept

const HASH = /^[0-9a-f]{64}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The checkpoint in a parsed value, or why it is not one; null when the value is no checkpoint at all. */
function checkpointIn(value: unknown, depth = 0): Checkpoint | { invalid: string } | null {
  if (!isRecord(value) || depth > 3) return null;
  // A bare checkpoint: the channel's copy, `audit checkpoints`, or an event's details.
  if ('signature' in value && 'seq' in value && 'hash' in value) {
    const { seq, hash, at, signature } = value;
    const keyId = value.key_id ?? value.keyId;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
      return { invalid: 'seq must be a whole number' };
    if (typeof hash !== 'string' || !HASH.test(hash)) return { invalid: 'hash must be 64 hex digits' };
    if (typeof at !== 'string' || !ISO.test(at)) return { invalid: 'at must be a UTC ISO 8601 time' };
    if (typeof signature !== 'string' || signature === '') return { invalid: 'signature must be base64 text' };
    return { seq, hash, at, signature, keyId: typeof keyId === 'string' ? keyId : '' };
  }
  // The `audit.checkpointed` event as a sink received it (json format), or inside an OCSF record
  // (`unmapped.access_bot`) or a Splunk HEC envelope (`event`).
  if (value.action === 'audit.checkpointed' && 'details' in value) return checkpointIn(value.details, depth + 1);
  if (isRecord(value.unmapped) && 'access_bot' in value.unmapped)
    return checkpointIn(value.unmapped.access_bot, depth + 1);
  if ('event' in value && isRecord(value.event)) return checkpointIn(value.event, depth + 1);
  return null;
}

export interface ParsedCheckpoints {
  /** Distinct checkpoints by seq and signature, in seq order, with the line each was first found on. */
  checkpoints: (Checkpoint & { line: number })[];
  /** Lines with something else (other events, chat text): skipped. */
  skipped: number;
  /** Lines that look like a checkpoint but are not a valid one. */
  invalid: { line: number; message: string }[];
}

/**
 * Checkpoints from text as a SIEM or a person kept them, one per line: bare checkpoints (the
 * channel, `audit checkpoints`), the `audit.checkpointed` events of a sink's stream (json or
 * ocsf, as JSON lines or HEC envelopes), or lines copied from the channel with text around the
 * checkpoint. Every other line is skipped; the same checkpoint seen twice (an at-least-once
 * stream repeats a batch) counts once.
 */
export function parseCheckpoints(text: string): ParsedCheckpoints {
  const seen = new Set<string>();
  const checkpoints: (Checkpoint & { line: number })[] = [];
  const invalid: { line: number; message: string }[] = [];
  let skipped = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    let found: ReturnType<typeof checkpointIn> = null;
    for (const candidate of jsonCandidates(line)) {
      try {
        found = checkpointIn(JSON.parse(candidate));
      } catch {
        found = null;
      }
      if (found) break;
    }
    if (!found) return void skipped++;
    if ('invalid' in found) return void invalid.push({ line: index + 1, message: found.invalid });
    const key = `${found.seq}:${found.signature}`;
    if (seen.has(key)) return;
    seen.add(key);
    checkpoints.push({ ...found, line: index + 1 });
  });
  checkpoints.sort((a, b) => a.seq - b.seq || a.line - b.line);
  return { checkpoints, skipped, invalid };
}

/** The line itself, then the outermost `{...}` in it (a checkpoint copied with text or backticks around it). */
function jsonCandidates(line: string): string[] {
  const out = [line];
  const start = line.indexOf('{');
  const end = line.lastIndexOf('}');
  if (start >= 0 && end > start && (start > 0 || end < line.length - 1)) out.push(line.slice(start, end + 1));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checking a log against checkpoints

export type CheckpointFailure =
  /** No key given signed it: forged, altered, or signed by a key not given. */
  | 'bad_signature'
  /** The log holds another event at its seq: rewritten. */
  | 'hash_mismatch'
  /** The log ends before its seq: truncated. */
  | 'missing'
  /** The chain breaks at or before its seq, so the log cannot prove it holds its head. */
  | 'chain_broken';

export interface CheckpointProblem {
  checkpoint: Checkpoint & { line?: number };
  kind: CheckpointFailure;
  message: string;
}

export interface CheckpointVerification {
  ok: boolean;
  /** Checkpoints whose head the chain holds and whose signature is valid. */
  verified: number;
  /** The first checkpoint (in seq order) that fails, and how many fail in all. */
  problem?: CheckpointProblem;
  failed: number;
}

/**
 * Checks checkpoints against the events of a log, pushed in stored order alongside the chain's
 * own verification (`ChainVerifier`): each checkpoint must be signed by one of `keys` and the
 * chain must hold its hash at its seq. Streaming: memory grows with the checkpoints, not the log.
 */
export class CheckpointVerifier {
  private readonly bySeq = new Map<number, (Checkpoint & { line?: number })[]>();
  private readonly confirmed = new Set<Checkpoint>();
  private readonly mismatched = new Map<Checkpoint, string>();
  private readonly badSignature = new Set<Checkpoint>();
  private lastSeq = 0;

  constructor(
    private readonly checkpoints: readonly (Checkpoint & { line?: number })[],
    keys: readonly KeyObject[],
  ) {
    for (const checkpoint of checkpoints) {
      if (!keys.some((key) => checkpointSignedBy(checkpoint, key))) this.badSignature.add(checkpoint);
      const list = this.bySeq.get(checkpoint.seq) ?? [];
      list.push(checkpoint);
      this.bySeq.set(checkpoint.seq, list);
      // A checkpoint of the empty log: its head is the genesis hash, which every chain starts from.
      if (checkpoint.seq === 0) this.compare(checkpoint, GENESIS_HASH);
    }
  }

  /** An event the chain verification accepted (call only while `ChainVerifier.push` returns true). */
  push(event: Pick<AuditEvent, 'seq' | 'hash'>): void {
    this.lastSeq = event.seq;
    const due = this.bySeq.get(event.seq);
    if (due) for (const checkpoint of due) this.compare(checkpoint, event.hash);
  }

  /**
   * The outcome. `chainBrokenAt`: the seq where the chain verification found the log broken
   * (checkpoints from there on cannot be confirmed); undefined when the chain is intact.
   */
  finish(chainBrokenAt?: number): CheckpointVerification {
    const problems: CheckpointProblem[] = [];
    for (const checkpoint of this.checkpoints) {
      const problem = this.problemOf(checkpoint, chainBrokenAt);
      if (problem) problems.push(problem);
    }
    const failed = new Set(problems.map((p) => p.checkpoint)).size;
    // In seq order; for one checkpoint, a bad signature is named before what the log holds.
    const first = problems.sort((a, b) => a.checkpoint.seq - b.checkpoint.seq || rank(a.kind) - rank(b.kind))[0];
    return {
      ok: problems.length === 0,
      verified: this.checkpoints.length - failed,
      failed,
      ...(first ? { problem: first } : {}),
    };
  }

  private compare(checkpoint: Checkpoint, hash: string): void {
    if (checkpoint.hash === hash) this.confirmed.add(checkpoint);
    else this.mismatched.set(checkpoint, hash);
  }

  private problemOf(
    checkpoint: Checkpoint & { line?: number },
    chainBrokenAt: number | undefined,
  ): CheckpointProblem | undefined {
    const name = describeCheckpoint(checkpoint);
    if (this.badSignature.has(checkpoint)) {
      return {
        checkpoint,
        kind: 'bad_signature',
        message: `${name}: the signature is not valid for the public key${checkpoint.keyId ? ` (it names key ${checkpoint.keyId})` : ''}: forged, altered, or signed by another key`,
      };
    }
    const other = this.mismatched.get(checkpoint);
    if (other !== undefined) {
      return {
        checkpoint,
        kind: 'hash_mismatch',
        message: `${name}: the log holds a different event at seq ${checkpoint.seq} (hash ${other.slice(0, 16)}… instead of ${checkpoint.hash.slice(0, 16)}…): the log was rewritten or replaced`,
      };
    }
    if (chainBrokenAt !== undefined && checkpoint.seq >= chainBrokenAt) {
      return {
        checkpoint,
        kind: 'chain_broken',
        message: `${name}: the chain is broken at event ${chainBrokenAt}, so the log no longer proves it held this head`,
      };
    }
    if (this.confirmed.has(checkpoint)) return undefined;
    return {
      checkpoint,
      kind: 'missing',
      message: `${name}: the log ends at seq ${this.lastSeq}, before this checkpoint's seq ${checkpoint.seq}: the log was truncated`,
    };
  }
}

function rank(kind: CheckpointFailure): number {
  return kind === 'bad_signature' ? 0 : 1;
}

function describeCheckpoint(checkpoint: Checkpoint & { line?: number }): string {
  return `the checkpoint of seq ${checkpoint.seq} signed at ${checkpoint.at}${checkpoint.line ? ` (line ${checkpoint.line})` : ''}`;
}
