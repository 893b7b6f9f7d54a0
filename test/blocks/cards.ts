/** Request cards in each state the builders render, for golden and limit tests. */
import type { RequestCard, StepView } from '../../blocks/view-models.js';

const ada = { name: 'Ada Lovelace', email: 'ada@example.com', slackId: 'U0ADA', directoryId: 'u-ada' };
const marcus = { name: 'Marcus Chen', email: 'marcus@example.com', slackId: 'U0MARCUS', directoryId: 'u-marcus' };
const sam = { name: 'Sam Rivera', email: 'sam@example.com', slackId: 'U0SAM', directoryId: 'u-sam' };
const jordan = { name: 'Jordan Lee', email: 'jordan@example.com', slackId: 'U0JORDAN', directoryId: 'u-jordan' };
const grace = { name: 'Grace Hopper', email: 'ciso@example.com', slackId: 'U0GRACE', directoryId: 'u-grace' };

const at = '2026-03-02T09:00:00.000Z';

function steps(statuses: StepView['status'][]): StepView[] {
  return [
    {
      index: 0,
      label: 'manager',
      approver: { kind: 'manager' },
      required: 1,
      status: statuses[0]!,
      approverCount: 1,
      approverNames: ['Marcus Chen'],
      notifyChannel: null,
      fallbackReason: null,
      decisions: [],
    },
    {
      index: 1,
      label: 'group security-team',
      approver: { kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SECURITY' },
      required: 2,
      status: statuses[1]!,
      approverCount: 3,
      approverNames: statuses[1] === 'waiting' ? [] : ['Sam Rivera', 'Jordan Lee', 'Kim Nguyen'],
      notifyChannel: 'C0SECURITY',
      fallbackReason: null,
      decisions: [],
    },
    {
      index: 2,
      label: 'user ciso@example.com',
      approver: { kind: 'user', user: 'ciso@example.com' },
      required: 1,
      status: statuses[2]!,
      approverCount: 1,
      approverNames: statuses[2] === 'waiting' ? [] : ['Grace Hopper'],
      notifyChannel: null,
      fallbackReason: null,
      decisions: [],
    },
  ];
}

function base(): RequestCard {
  return {
    id: 'req_0example0001',
    kind: 'access',
    requester: ada,
    appName: 'GitHub',
    roleName: 'Organization owner',
    policyName: 'github-owner-jit',
    policyVersion: 'cee04e1e1a13d0c4e8f2a9b7',
    justification: 'Rotate the deploy keys (INC-42)',
    requestedSeconds: 3600,
    grantedSeconds: null,
    status: 'pending_approval',
    decisionReason: null,
    decidedAt: null,
    autoApproveRule: null,
    currentStep: 0,
    steps: steps(['open', 'waiting', 'waiting']),
    createdAt: at,
    approvalDeadline: '2026-03-05T09:00:00.000Z',
    grant: null,
    provisioning: { kind: 'automatic' },
    reminderLeads: [86_400, 3600],
    timezone: 'Europe/Berlin',
  };
}

const approve = (person: typeof ada, minutes: number) => ({
  person,
  decision: 'approve' as const,
  reason: null,
  shortenedToSeconds: null,
  at: `2026-03-02T09:${String(minutes).padStart(2, '0')}:00.000Z`,
});

export function pendingCard(): RequestCard {
  return base();
}

/** Step 2 of 3, one of two approvals in. */
export function step2Card(): RequestCard {
  const card = base();
  card.currentStep = 1;
  card.steps = steps(['approved', 'open', 'waiting']);
  card.steps[0]!.decisions = [approve(marcus, 5)];
  card.steps[1]!.decisions = [approve(sam, 10)];
  return card;
}

export function approvedCard(): RequestCard {
  const card = base();
  card.status = 'approved';
  card.currentStep = -1;
  card.grantedSeconds = 1800;
  card.decidedAt = '2026-03-02T09:20:00.000Z';
  card.steps = steps(['approved', 'approved', 'approved']);
  card.steps[0]!.decisions = [approve(marcus, 5)];
  card.steps[1]!.decisions = [approve(sam, 10), approve(jordan, 12)];
  card.steps[2]!.decisions = [{ ...approve(grace, 20), shortenedToSeconds: 1800 }];
  card.grant = {
    id: 'grt_0example0001',
    status: 'active',
    activatedAt: '2026-03-02T09:21:00.000Z',
    expiresAt: '2026-03-02T09:51:00.000Z',
    revocationReason: null,
    revocationNote: null,
    revokedBy: null,
    lastError: null,
    extendable: true,
    durationSeconds: 1800,
  };
  return card;
}

export function deniedCard(): RequestCard {
  const card = base();
  card.status = 'denied';
  card.currentStep = -1;
  card.decisionReason = 'Not during the <!here> freeze';
  card.steps = steps(['approved', 'denied', 'waiting']);
  card.steps[0]!.decisions = [approve(marcus, 5)];
  card.steps[1]!.decisions = [
    {
      person: sam,
      decision: 'deny',
      reason: 'Not during the <!here> freeze',
      shortenedToSeconds: null,
      at: '2026-03-02T09:10:00.000Z',
    },
  ];
  return card;
}

export function expiredCard(): RequestCard {
  const card = base();
  card.status = 'approval_expired';
  card.currentStep = -1;
  card.steps = steps(['closed', 'waiting', 'waiting']);
  return card;
}

export function cancelledCard(): RequestCard {
  const card = base();
  card.status = 'cancelled';
  card.currentStep = -1;
  card.decisionReason = 'cancelled by the requester';
  card.steps = steps(['closed', 'waiting', 'waiting']);
  return card;
}

/** Step 1 approved for 15 minutes of the hour asked; step 2 open. */
export function shortenedStepCard(): RequestCard {
  const card = step2Card();
  card.grantedSeconds = 900;
  card.steps[0]!.decisions = [{ ...approve(marcus, 5), shortenedToSeconds: 900 }];
  card.steps[1]!.decisions = [];
  return card;
}

/** A manual role (Laptop local admin), approved: IT helpdesk sets it up by hand. */
export function manualCard(): RequestCard {
  const card = approvedCard();
  card.appName = 'Laptop local admin';
  card.roleName = 'Local administrator';
  card.grantedSeconds = null;
  card.requestedSeconds = 4 * 3600;
  card.steps = [{ ...steps(['approved', 'waiting', 'waiting'])[0]!, decisions: [approve(marcus, 5)] }];
  card.provisioning = { kind: 'manual', assigneeGroup: 'it-helpdesk' };
  card.grant = {
    ...card.grant!,
    status: 'provisioning',
    activatedAt: null,
    expiresAt: null,
    durationSeconds: 4 * 3600,
  };
  return card;
}

/** The manual role active for 15 minutes: removed by hand, and too short for any reminder. */
export function manualActiveCard(): RequestCard {
  const card = manualCard();
  card.grantedSeconds = 900;
  card.requestedSeconds = 3600;
  card.grant = {
    ...card.grant!,
    status: 'active',
    activatedAt: '2026-03-02T09:21:00.000Z',
    expiresAt: '2026-03-02T09:36:00.000Z',
    durationSeconds: 900,
  };
  return card;
}

/** The approved grant, extended by an hour after its reminder. */
export function extendedCard(): RequestCard {
  const card = approvedCard();
  card.grant = { ...card.grant!, expiresAt: '2026-03-02T10:51:00.000Z' };
  return card;
}
