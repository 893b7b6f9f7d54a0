/** View models for the Slack 2 builders (lists, App Home, tasks, admin forms), per state. */
import type {
  ApprovalLine,
  CatalogRoleLine,
  GrantLine,
  HoldingLine,
  HomeModel,
  RequestLine,
  TaskLine,
  TaskView,
} from '../../blocks/view-models.js';
import { evaluate, type DirectoryFacts } from '../../src/domain/evaluate.js';
import type { Person } from '../../src/domain/person.js';
import type { AppPolicy, Role } from '../../src/domain/policy.js';
import { approvedCard } from './cards.js';
import { EXAMPLE_ROLES } from '../support/lifecycle-harness.js';

const tz = 'Europe/Berlin';
const ada = { name: 'Ada Lovelace', email: 'ada@example.com', slackId: 'U0ADA', directoryId: 'u-ada' };

export function grants(): GrantLine[] {
  return [
    {
      grantId: 'grt_0example0001',
      app: 'github',
      role: 'owner',
      appName: 'GitHub',
      roleName: 'Organization owner',
      status: 'active',
      activatedAt: '2026-03-02T09:21:00.000Z',
      expiresAt: '2026-03-02T10:21:00.000Z',
      extendable: true,
      removal: { kind: 'automatic' },
    },
    {
      grantId: 'grt_0example0002',
      app: 'aws',
      role: 'admin',
      appName: 'AWS',
      roleName: 'Administrator',
      status: 'active',
      activatedAt: '2026-03-02T09:00:00.000Z',
      expiresAt: '2026-03-02T11:00:00.000Z',
      extendable: false,
      removal: { kind: 'automatic' },
    },
    {
      grantId: 'grt_0example0003',
      app: 'laptop',
      role: 'local-admin',
      appName: 'Laptop',
      roleName: 'Local <administrator>',
      status: 'provisioning',
      activatedAt: null,
      expiresAt: null,
      extendable: false,
      removal: { kind: 'manual', assigneeGroup: 'it-helpdesk' },
    },
  ];
}

export function requests(): RequestLine[] {
  return [
    {
      requestId: 'req_0example0002',
      kind: 'access',
      appName: 'GitHub',
      roleName: 'Organization owner',
      requestedSeconds: 3600,
      grantedSeconds: null,
      createdAt: '2026-03-02T09:00:00.000Z',
      stepTitle: 'Step 1 of 3 · your manager, Marcus Chen',
    },
  ];
}

export function approvals(): ApprovalLine[] {
  return [
    {
      requestId: 'req_0example0003',
      stepIndex: 0,
      kind: 'access',
      requester: { name: 'Alan <!here> Turing', email: 'alan@example.com', slackId: 'U0ALAN', directoryId: 'u-alan' },
      appName: 'AWS',
      roleName: 'Administrator',
      seconds: 3600,
      requestedSeconds: 3600,
      stepTitle: 'Step 1 of 1 · manager, Marcus Chen',
      createdAt: '2026-03-02T09:05:00.000Z',
      justification: 'Deploy the <!here> hotfix (INC-7)',
      where: { kind: 'dm' },
    },
  ];
}

export function catalog(): CatalogRoleLine[] {
  return [
    {
      app: 'github',
      role: 'member',
      appName: 'GitHub',
      roleName: 'Member',
      summary: 'Automatic, up to 90 days.',
      held: false,
      pending: false,
    },
    {
      app: 'github',
      role: 'owner',
      appName: 'GitHub',
      roleName: 'Organization owner',
      summary: 'Needs your manager, then 2 people from Security team, then Grace Hopper (CISO); up to 4 hours.',
      held: true,
      pending: false,
    },
    {
      app: 'aws',
      role: 'admin',
      appName: 'AWS',
      roleName: 'Administrator',
      summary: 'Automatic for you up to 1 hour; longer (up to 8 hours) needs your manager.',
      held: false,
      pending: true,
    },
  ];
}

export function home(kind: 'employee' | 'approver' | 'admin'): HomeModel {
  return {
    person: ada,
    grants: kind === 'employee' ? grants() : [],
    requests: kind === 'employee' ? requests() : [],
    approvals: kind === 'approver' ? approvals() : [],
    catalog: catalog(),
    tasks: kind === 'approver' ? tasks() : [],
    admin: kind === 'admin',
    holdings: kind === 'admin' ? { lines: holdingLines(), total: 12 } : null,
    timezone: tz,
  };
}

export function tasks(): TaskLine[] {
  return [
    {
      taskId: 'tsk_0example0002',
      action: 'grant',
      holder: { name: 'Alan Turing', email: 'alan@example.com', slackId: 'U0ALAN', directoryId: 'u-alan' },
      appName: 'Laptop local admin',
      roleName: 'Local administrator',
      createdAt: '2026-03-02T09:10:00.000Z',
    },
  ];
}

export function holdingLines(): HoldingLine[] {
  return [
    {
      holder: ada,
      appName: 'GitHub',
      roleName: 'Organization owner',
      sensitive: true,
      expiresAt: '2026-03-02T10:21:00.000Z',
    },
    {
      holder: { name: 'Linus Berg', email: 'linus@example.com', slackId: 'U0LINUS', directoryId: 'u-linus' },
      appName: 'AWS production',
      roleName: 'Read-only',
      sensitive: false,
      expiresAt: '2026-03-02T17:00:00.000Z',
    },
  ];
}

/** Far more of everything than a Home tab holds. */
export function crowdedHome(): HomeModel {
  const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));
  return {
    ...home('admin'),
    grants: many(40, (i) => ({ ...grants()[0]!, grantId: `grt_0crowd${String(i).padStart(4, '0')}` })),
    requests: many(30, (i) => ({ ...requests()[0]!, requestId: `req_0crowd${String(i).padStart(4, '0')}` })),
    approvals: many(30, (i) => ({ ...approvals()[0]!, requestId: `req_0ask${String(i).padStart(4, '0')}` })),
    catalog: many(200, (i) => ({ ...catalog()[0]!, role: `role-${i}`, roleName: `Role ${i}` })),
  };
}

export function task(action: 'grant' | 'revoke', status: TaskView['status']): TaskView {
  return {
    taskId: 'tsk_0example0001',
    action,
    status,
    assigneeGroup: 'it-helpdesk',
    holder: ada,
    appName: 'Laptop',
    roleName: 'Local administrator',
    grantId: 'grt_0example0003',
    requestId: 'req_0example0004',
    durationSeconds: 4 * 3600,
    revocationReason: action === 'revoke' ? 'expired' : status === 'cancelled' ? 'offboarded' : null,
    justification: 'Install the <!here> printer driver (IT-77)',
    createdAt: '2026-03-02T09:00:00.000Z',
    completedBy:
      status === 'done'
        ? { name: 'Ian Murdock', email: 'ian@example.com', slackId: 'U0IAN', directoryId: 'u-ian' }
        : null,
    completedAt: status === 'done' ? '2026-03-02T09:30:00.000Z' : null,
    timezone: tz,
  };
}

/** The approved card's grant, ended for `reason`. */
export function endedCard(reason: 'expired' | 'relinquished' | 'revoked' | 'offboarded' | 'removed_externally') {
  const card = approvedCard();
  const notes = {
    expired: null,
    relinquished: null,
    revoked: 'Left the <!channel> project',
    offboarded: 'okta: directory status deprovisioned',
    removed_externally: 'not in github-owners any more',
  };
  card.grant = {
    ...card.grant!,
    status: 'revoked',
    revocationReason: reason,
    revocationNote: notes[reason],
    revokedBy:
      reason === 'revoked' ? 'priya@example.com' : reason === 'relinquished' ? 'ada@example.com' : 'system:sweep',
    revokedAt: '2026-03-02T09:51:00.000Z',
  };
  return card;
}

const person = (id: string, name: string, email: string, active = true): Person => ({
  id,
  email,
  login: email,
  name,
  status: active ? 'active' : 'deprovisioned',
  active,
});

const owner: Role = EXAMPLE_ROLES.owner;
const github: AppPolicy = { app: 'github', name: 'GitHub', roles: [owner] };

export function explainEvaluation(kind: 'needs_approval' | 'not_eligible' | 'auto_approved') {
  const requester = person('u-ada', 'Ada <Lovelace>', 'ada@example.com');
  const facts: DirectoryFacts = {
    requester,
    requesterGroups:
      kind === 'not_eligible'
        ? ['everyone']
        : kind === 'auto_approved'
          ? ['platform-team', 'sre-oncall']
          : ['platform-team'],
    manager: person('u-marcus', 'Marcus Chen', 'marcus@example.com'),
    groupMembers: {
      'security-team': [
        person('u-sam', 'Sam Rivera', 'sam@example.com'),
        person('u-jordan', 'Jordan Lee', 'jordan@example.com'),
        person('u-kim', 'Kim Nguyen', 'kim@example.com', false),
      ],
      'access-admins': [
        person('u-priya', 'Priya Patel', 'priya@example.com'),
        person('u-grace', 'Grace Hopper', 'ciso@example.com'),
      ],
    },
    users: { 'ciso@example.com': { ...person('u-grace', 'Grace Hopper', 'ciso@example.com'), title: 'CISO' } },
    adminGroup: 'access-admins',
  };
  return evaluate(
    github,
    owner,
    'cee04e1e1a13d0c4e8f2a9b7',
    facts,
    { justification: 'explain' },
    new Date('2026-03-02T09:00:00.000Z'),
  );
}

export { owner as explainRole };
