import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/domain/canonical.js';
import { hashEvent, hashEventJson, type AuditEvent } from '../../src/domain/audit.js';

describe('the audit hash', () => {
  const event: Omit<AuditEvent, 'hash' | 'prevHash'> = {
    seq: 42,
    at: '2026-03-02T09:00:00.000Z',
    actor: {
      kind: 'person',
      directoryId: 'u1',
      email: 'zoë@example.com',
      slackId: 'U1',
      via: 'cli',
      osUser: 'root',
      host: 'h',
    },
    action: 'grant.revoked',
    requestId: 'req_1',
    grantId: null,
    details: { z: [1, { b: 'é"\\\n', a: null }], a: 'line\u2028sep', nested: { y: 2, x: 1 } },
  };
  const prev = 'a'.repeat(64);

  it('covers the canonical JSON of the whole event, whether its parts come serialised or not', () => {
    const expected = sha256Hex(`${prev}\n${canonicalJson(event)}`);
    expect(hashEvent(prev, event)).toBe(expected);
    expect(
      hashEventJson(prev, { ...event, actor: canonicalJson(event.actor), details: canonicalJson(event.details) }),
    ).toBe(expected);
  });

  it('changes with any part of the event', () => {
    expect(hashEvent(prev, { ...event, requestId: null })).not.toBe(hashEvent(prev, event));
    expect(hashEvent(prev, { ...event, details: { ...event.details, a: 'other' } })).not.toBe(hashEvent(prev, event));
  });
});
