import { describe, expect, it } from 'vitest';
import {
  distinctAssignmentExists,
  durationChoices,
  evaluate,
  resolveChain,
  resolveStep,
} from '../../src/domain/evaluate.js';
import { explainText } from '../../src/domain/explain.js';
import type { Person } from '../../src/domain/person.js';
import type { Role } from '../../src/domain/policy.js';
import { NOW, app, facts, person, role } from './fixtures.js';

const H = 3600;
const D = 86_400;

const ada = person('ada');
const marcus = person('marcus');
const sam = person('sam');
const jordan = person('jordan');
const kim = person('kim');
const grace = person('grace', { email: 'ciso@example.com' });
const ian = person('ian');
const dave = person('dave', { status: 'deprovisioned' });

const fullChain: Role = role({
  sensitive: true,
  justification: 'required',
  approval: [
    { kind: 'manager' },
    { kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SECURITY' },
    { kind: 'user', user: 'ciso@example.com' },
  ],
  autoApprove: { requesterGroups: ['sre-oncall'], maxDurationSeconds: H },
});

const companyFacts = (requester: Person = ada, extra: Parameters<typeof facts>[1] = {}) =>
  facts(requester, {
    manager: marcus,
    groupMembers: { 'security-team': [sam, jordan, kim], 'access-admins': [jordan, ian] },
    users: { 'ciso@example.com': grace },
    ...extra,
  });

const run = (
  r: Role,
  f = companyFacts(),
  request: { durationSeconds?: number; justification?: string } = { justification: 'incident 42' },
) => evaluate(app(r), r, 'v1', f, request, NOW);

describe('eligibility', () => {
  it('accepts a requester in one of the eligible groups and names the group', () => {
    const e = run(role({ eligibleGroups: ['sre-oncall', 'platform-team'] }));
    expect(e.eligibility).toEqual({
      eligible: true,
      reason: 'member of eligible group platform-team',
      matchedGroup: 'platform-team',
    });
  });

  it('refuses a requester in none of them and lists the groups', () => {
    const e = run(role({ eligibleGroups: ['finance-team', 'security-team'] }));
    expect(e.outcome).toBe('not_eligible');
    expect(e.eligibility.reason).toBe('not a member of any eligible group (finance-team, security-team)');
    expect(e.summary).toContain('Not eligible');
  });

  it('refuses an inactive requester even when they are still in the group', () => {
    const e = run(role(), companyFacts(dave));
    expect(e.outcome).toBe('not_eligible');
    expect(e.eligibility.reason).toContain('not active');
    expect(e.eligibility.reason).toContain('deprovisioned');
  });

  it('checks eligibility before auto-approval: approval: auto does not let an outsider in', () => {
    const e = run(role({ approval: 'auto', eligibleGroups: ['finance-team'] }));
    expect(e.outcome).toBe('not_eligible');
  });
});

describe('duration', () => {
  it('offers the default first, then the presets below the maximum, then the maximum', () => {
    expect(durationChoices(role({ duration: { defaultSeconds: H, maxSeconds: 4 * H } }))).toEqual([H, 900, 4 * H]);
    expect(durationChoices(role({ duration: { defaultSeconds: 30 * D, maxSeconds: 90 * D } }))).toEqual([
      30 * D,
      900,
      H,
      4 * H,
      8 * H,
      D,
      7 * D,
      90 * D,
    ]);
  });

  it('offers an off-preset maximum as the last choice', () => {
    expect(durationChoices(role({ duration: { defaultSeconds: 2 * H, maxSeconds: 6 * H } }))).toEqual([
      2 * H,
      900,
      H,
      4 * H,
      6 * H,
    ]);
  });

  it('uses the default when none is asked for', () => {
    const e = run(role());
    expect(e.duration.requested).toMatchObject({ seconds: H, ok: true });
    expect(e.duration.requested.reason).toBe('the default, 1 hour');
  });

  it('accepts exactly the maximum', () => {
    expect(run(role(), companyFacts(), { durationSeconds: 4 * H }).duration.requested.ok).toBe(true);
  });

  it('refuses more than the maximum and says by how much', () => {
    const e = run(role(), companyFacts(), { durationSeconds: 5 * H });
    expect(e.outcome).toBe('invalid_request');
    expect(e.duration.requested.reason).toBe('5 hours is longer than the maximum of 4 hours');
  });

  it('refuses a zero or fractional duration', () => {
    expect(run(role(), companyFacts(), { durationSeconds: 0 }).outcome).toBe('invalid_request');
    expect(run(role(), companyFacts(), { durationSeconds: 1.5 }).outcome).toBe('invalid_request');
  });
});

describe('justification', () => {
  it('is required when the role says so, and blank text does not count', () => {
    const e = run(role({ justification: 'required' }), companyFacts(), { justification: '   ' });
    expect(e.outcome).toBe('invalid_request');
    expect(e.justification).toEqual({ required: true, ok: false, reason: 'this role requires a justification' });
  });

  it('is optional otherwise', () => {
    const e = run(role({ justification: 'optional' }), companyFacts(), {});
    expect(e.justification).toEqual({ required: false, ok: true, reason: 'optional, none given' });
    expect(e.outcome).toBe('needs_approval');
  });
});

describe('auto-approval', () => {
  it('approves every eligible request under approval: auto, with no chain', () => {
    const e = run(role({ approval: 'auto' }));
    expect(e.outcome).toBe('auto_approved');
    expect(e.autoApprove.rule).toBe('approval: auto');
    expect(e.chain).toEqual([]);
  });

  it('skips the chain when every auto_approve.when condition holds (any one of the groups)', () => {
    const e = run(fullChain, companyFacts(ada, { requesterGroups: ['platform-team', 'sre-oncall'] }), {
      durationSeconds: H,
      justification: 'page',
    });
    expect(e.outcome).toBe('auto_approved');
    expect(e.autoApprove.rule).toBe('auto_approve.when');
    expect(e.autoApprove.conditions).toEqual([
      { condition: 'requester in any of sre-oncall', holds: true, fact: 'member of sre-oncall' },
      { condition: 'duration at most 1 hour', holds: true, fact: 'requested 1 hour' },
    ]);
  });

  it('names the condition that fails: the duration', () => {
    const e = run(fullChain, companyFacts(ada, { requesterGroups: ['platform-team', 'sre-oncall'] }), {
      durationSeconds: 2 * H,
      justification: 'x',
    });
    expect(e.outcome).toBe('needs_approval');
    expect(e.autoApprove.applies).toBe(false);
    expect(e.autoApprove.reason).toBe('auto_approve does not apply: duration at most 1 hour (requested 2 hours)');
  });

  it('names the condition that fails: the group', () => {
    const e = run(fullChain);
    expect(e.autoApprove.reason).toBe(
      'auto_approve does not apply: requester in any of sre-oncall (member of none of them)',
    );
    expect(e.autoApprove.conditions.map((c) => c.holds)).toEqual([false, true]);
  });

  it('says so when a role has no auto-approve rule', () => {
    expect(run(role()).autoApprove).toEqual({
      applies: false,
      rule: null,
      reason: 'no auto-approve rule',
      conditions: [],
    });
  });
});

describe('approval chain', () => {
  it('resolves manager -> group quorum -> named user, in order, with the notify channel', () => {
    const e = run(fullChain);
    expect(e.outcome).toBe('needs_approval');
    expect(e.summary).toBe(
      'Eligible; needs 3 approval steps: manager -> group security-team -> user ciso@example.com.',
    );
    expect(e.chain.map((s) => [s.label, s.required, s.approvers.map((p) => p.name)])).toEqual([
      ['manager', 1, ['marcus']],
      ['group security-team', 2, ['sam', 'jordan', 'kim']],
      ['user ciso@example.com', 1, ['grace']],
    ]);
    expect(e.chain[1]?.notifyChannel).toBe('C0SECURITY');
    expect(e.chain.every((s) => s.satisfiable && !s.fallback)).toBe(true);
  });

  it('finds a named user case-insensitively', () => {
    const r = role({ approval: [{ kind: 'user', user: 'CISO@Example.com' }] });
    expect(run(r).chain[0]?.approvers).toEqual([grace]);
  });

  it('excludes the requester from a group they belong to (nobody approves their own request)', () => {
    const e = run(fullChain, companyFacts(sam, { manager: grace, users: { 'ciso@example.com': marcus } }));
    const step = e.chain[1]!;
    expect(step.approvers.map((p) => p.name)).toEqual(['jordan', 'kim']);
    expect(step.excluded).toEqual([{ person: sam, reason: 'requester' }]);
    expect(step.fallback).toBeUndefined();
  });

  it('excludes inactive approvers', () => {
    const f = companyFacts(ada, {
      groupMembers: { 'security-team': [sam, dave, jordan], 'access-admins': [jordan, ian] },
    });
    const step = run(fullChain, f).chain[1]!;
    expect(step.approvers.map((p) => p.name)).toEqual(['sam', 'jordan']);
    expect(step.excluded).toEqual([{ person: dave, reason: 'inactive' }]);
  });

  it('falls back to the admin group when the requester has no manager, and says why', () => {
    const e = run(role(), companyFacts(ada, { manager: null }));
    const step = e.chain[0]!;
    expect(e.outcome).toBe('needs_approval');
    expect(step.label).toBe('manager (admin fallback: access-admins)');
    expect(step.approvers.map((p) => p.name)).toEqual(['jordan', 'ian']);
    expect(step.fallback?.reason).toBe(
      'ada@example.com has no manager in the directory; the admin group access-admins decides instead',
    );
  });

  it('falls back when the manager is inactive', () => {
    const step = run(role(), companyFacts(ada, { manager: dave })).chain[0]!;
    expect(step.fallback?.reason).toContain('the manager cannot approve; excluded: dave@example.com (inactive)');
  });

  it('falls back when the only named approver is the requester', () => {
    const step = run(role({ approval: [{ kind: 'user', user: 'ciso@example.com' }] }), companyFacts(grace)).chain[0]!;
    expect(step.fallback?.reason).toContain('ciso@example.com cannot approve; excluded: ciso@example.com (requester)');
  });

  it('falls back when a group has fewer people than min_approvals after exclusions, and drops the channel', () => {
    const f = companyFacts(sam, {
      groupMembers: { 'security-team': [sam, jordan], 'access-admins': [jordan, ian, marcus] },
    });
    const step = run(
      role({ approval: [{ kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SECURITY' }] }),
      f,
    ).chain[0]!;
    expect(step.fallback?.reason).toBe(
      'group security-team has 1 eligible approver, 2 needed; excluded: sam@example.com (requester); the admin group access-admins decides instead',
    );
    expect(step.approvers.map((p) => p.name)).toEqual(['jordan', 'ian', 'marcus']);
    expect(step.notifyChannel).toBeUndefined();
    expect(step.satisfiable).toBe(true);
  });

  it('falls back when a step names a group the directory does not have', () => {
    const step = run(role({ approval: [{ kind: 'group', group: 'gone-team', minApprovals: 1 }] })).chain[0]!;
    expect(step.fallback?.reason).toContain('group gone-team is not in the directory');
  });

  it('is unsatisfiable when even the admin group has too few people', () => {
    const f = companyFacts(ada, { groupMembers: { 'security-team': [sam], 'access-admins': [jordan] } });
    const e = run(role({ approval: [{ kind: 'group', group: 'security-team', minApprovals: 2 }] }), f);
    expect(e.outcome).toBe('unsatisfiable');
    expect(e.chain[0]?.satisfiable).toBe(false);
    expect(e.summary).toContain('No one can approve this request: step 1');
    expect(explainText(e)).toContain('cannot be satisfied');
  });

  it('is unsatisfiable when the only admin is the requester', () => {
    const f = companyFacts(jordan, { manager: null, groupMembers: { 'access-admins': [jordan] } });
    const e = run(role(), f);
    expect(e.outcome).toBe('unsatisfiable');
    expect(e.chain[0]?.excluded).toEqual([{ person: jordan, reason: 'requester' }]);
  });

  it('keeps a person who is in two steps as a candidate of both, when distinct people still cover every step', () => {
    // Marcus manages Ada and is also in security-team: he may decide either step, not both.
    const f = companyFacts(ada, { groupMembers: { 'security-team': [marcus, sam], 'access-admins': [jordan, ian] } });
    const r = role({ approval: [{ kind: 'manager' }, { kind: 'group', group: 'security-team', minApprovals: 1 }] });
    const e = run(r, f);
    expect(e.outcome).toBe('needs_approval');
    expect(e.chain[1]?.approvers.map((p) => p.name)).toEqual(['marcus', 'sam']);
  });

  it('counts on the admin fallback when the only person of a later step decided an earlier one', () => {
    // At run time Marcus approves as manager, is excluded from security-team, and the admins decide step 2.
    const f = companyFacts(ada, { groupMembers: { 'security-team': [marcus], 'access-admins': [jordan, ian] } });
    const r = role({ approval: [{ kind: 'manager' }, { kind: 'group', group: 'security-team', minApprovals: 1 }] });
    expect(run(r, f).outcome).toBe('needs_approval');
  });

  it('is unsatisfiable when one person would have to approve two steps, admin fallback included', () => {
    const f = companyFacts(ada, { groupMembers: { 'security-team': [marcus], 'access-admins': [marcus] } });
    const r = role({ approval: [{ kind: 'manager' }, { kind: 'group', group: 'security-team', minApprovals: 1 }] });
    const e = run(r, f);
    expect(e.outcome).toBe('unsatisfiable');
    expect(e.summary).toContain('not enough distinct approvers');
  });

  it('excludes people who decided an earlier step when a step starts', () => {
    const step = resolveStep(
      { kind: 'group', group: 'security-team', minApprovals: 2 },
      1,
      companyFacts(),
      new Set([sam.id]),
    );
    expect(step.approvers.map((p) => p.name)).toEqual(['jordan', 'kim']);
    expect(step.excluded).toEqual([{ person: sam, reason: 'decided_earlier_step' }]);
  });

  it('resolves no chain for approval: auto', () => {
    expect(resolveChain(role({ approval: 'auto' }), companyFacts())).toEqual({ steps: [], satisfiable: true });
  });
});

describe('distinct assignment', () => {
  const p = (...names: string[]) => names.map((n) => person(n));

  it('finds an assignment that a careless greedy choice would miss', () => {
    expect(
      distinctAssignmentExists([
        { required: 1, approvers: p('x', 'y') },
        { required: 1, approvers: p('x') },
      ]),
    ).toBe(true);
    expect(
      distinctAssignmentExists([
        { required: 2, approvers: p('a', 'b', 'c') },
        { required: 1, approvers: p('a', 'b') },
        { required: 1, approvers: p('c', 'd') },
      ]),
    ).toBe(true);
  });

  it('agrees with an exhaustive search on many small random chains', () => {
    let seed = 7;
    const rand = (n: number) => {
      // mulberry32: small, seeded, and its low bits are as random as its high ones.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const pool = p('a', 'b', 'c', 'd', 'e', 'f');
    for (let trial = 0; trial < 5000; trial++) {
      const steps = Array.from({ length: 1 + rand(4) }, () => ({
        required: 1 + rand(3),
        approvers: pool.filter(() => rand(2) === 1),
      }));
      const shape = steps.map((s) => `${s.required} of ${s.approvers.map((x) => x.name).join('')}`).join(' / ');
      expect(`${shape}: ${distinctAssignmentExists(steps)}`).toBe(`${shape}: ${bruteForce(steps)}`);
    }
  });
});

/** Tries every way of giving each step its own people. */
function bruteForce(steps: { required: number; approvers: Person[] }[], used = new Set<string>()): boolean {
  const [first, ...rest] = steps;
  if (!first) return true;
  const free = first.approvers.filter((x) => !used.has(x.id));
  const pick = (from: number, chosen: string[]): boolean => {
    if (chosen.length === first.required) return bruteForce(rest, new Set([...used, ...chosen]));
    for (let i = from; i < free.length; i++) if (pick(i + 1, [...chosen, free[i]!.id])) return true;
    return false;
  };
  return pick(0, []);
}

describe('evaluate', () => {
  it('records the policy name, version, requester and time on the evaluation', () => {
    const e = run(fullChain);
    expect(e).toMatchObject({
      app: 'github',
      appName: 'GitHub',
      role: 'owner',
      policyName: 'test-owner',
      policyVersion: 'v1',
      at: '2025-03-03T10:00:00.000Z',
    });
    expect(e.requester).toBe(ada);
  });

  it('puts eligibility before duration, justification and approval in the summary', () => {
    const e = run(role({ eligibleGroups: ['nobody'], justification: 'required' }), companyFacts(), {
      durationSeconds: 99 * D,
    });
    expect(e.outcome).toBe('not_eligible');
  });
});
