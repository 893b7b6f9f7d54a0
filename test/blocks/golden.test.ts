/**
 * Golden Block Kit per state: the JSON the bot sends is reviewed as a file. Run with
 * UPDATE_GOLDEN=1 to rewrite the files after an intended change, and read the diff.
 */
import { describe, expect, it } from 'vitest';
import { approvalMessage } from '../../blocks/approval-message.js';
import {
  approveShorterModal,
  denyReasonModal,
  extensionOfferModal,
  pendingPointerModal,
  requestModal,
} from '../../blocks/modals.js';
import { requesterMessage, type RequesterEvent } from '../../blocks/requester-message.js';
import { golden } from './golden-file.js';
import { checkMessageBlocks, checkView } from '../../src/sandbox/slack-api/block-kit-limits.js';
import {
  approvedCard,
  cancelledCard,
  deniedCard,
  expiredCard,
  extendedCard,
  manualActiveCard,
  manualCard,
  pendingCard,
  shortenedStepCard,
  step2Card,
} from './cards.js';
import { endedCard } from './views.js';

const approval = {
  'approval-pending-dm': () => approvalMessage(pendingCard(), 0, { kind: 'person', directoryId: 'u-marcus' }),
  'approval-step-2-of-3-channel': () => approvalMessage(step2Card(), 1, { kind: 'channel' }),
  'approval-step-2-of-3-dm-already-approved': () =>
    approvalMessage(step2Card(), 1, { kind: 'person', directoryId: 'u-sam' }),
  'approval-approved-dm': () => approvalMessage(approvedCard(), 2, { kind: 'person', directoryId: 'u-grace' }),
  'approval-denied-channel': () => approvalMessage(deniedCard(), 1, { kind: 'channel' }),
  'approval-expired-dm': () => approvalMessage(expiredCard(), 0, { kind: 'person', directoryId: 'u-marcus' }),
  'approval-cancelled-dm': () => approvalMessage(cancelledCard(), 0, { kind: 'person', directoryId: 'u-marcus' }),
};

const requester: Record<string, () => ReturnType<typeof requesterMessage>> = {
  'requester-submitted': () => requesterMessage(pendingCard(), { type: 'request.submitted' }),
  'requester-step-approved': () => requesterMessage(step2Card(), { type: 'step.approved', stepIndex: 0 }),
  'requester-approved': () => requesterMessage(approvedCard(), { type: 'request.approved' }),
  'requester-active': () => requesterMessage(approvedCard(), { type: 'grant.active' }),
  'requester-active-auto-approved': () =>
    requesterMessage(
      {
        ...approvedCard(),
        autoApproveRule: 'auto_approve.when',
        autoApproveWhy: 'it is automatic for members of SRE oncall, up to 1 hour',
        steps: [],
      },
      { type: 'grant.active' },
    ),
  'requester-denied': () => requesterMessage(deniedCard(), { type: 'request.denied' }),
  'requester-expired': () => requesterMessage(expiredCard(), { type: 'request.expired' }),
  'requester-cancelled': () => requesterMessage(cancelledCard(), { type: 'request.cancelled' }),
  'requester-reminder': () =>
    requesterMessage(approvedCard(), { type: 'grant.reminder', leadSeconds: 3600 } satisfies RequesterEvent),
  // The status message, updated in place as the request moves on: no Cancel, no deadline once decided.
  'requester-status-approved-active': () => requesterMessage(approvedCard(), { type: 'request.submitted' }),
  'requester-status-denied': () => requesterMessage(deniedCard(), { type: 'request.submitted' }),
  'requester-status-expired': () => requesterMessage(expiredCard(), { type: 'request.submitted' }),
  // A step approved before the grant became active, as the DM reads afterwards: no Cancel, no "Next".
  'requester-step-approved-after-approval': () =>
    requesterMessage(approvedCard(), { type: 'step.approved', stepIndex: 0 }),
  'requester-step-approved-shortened': () =>
    requesterMessage(shortenedStepCard(), { type: 'step.approved', stepIndex: 0 }),
  'requester-approved-manual': () => requesterMessage(manualCard(), { type: 'request.approved' }),
  'requester-active-manual-no-reminder': () => requesterMessage(manualActiveCard(), { type: 'grant.active' }),
  'requester-reminder-after-end': () =>
    requesterMessage(endedCard('expired'), { type: 'grant.reminder', leadSeconds: null }),
  'requester-reminder-after-extension': () =>
    requesterMessage(extendedCard(), { type: 'grant.reminder', leadSeconds: null }),
  'requester-provisioning-delayed': () =>
    requesterMessage(
      {
        ...approvedCard(),
        grant: { ...approvedCard().grant!, status: 'provisioning', activatedAt: null, expiresAt: null },
      },
      { type: 'grant.provisioningDelayed' },
    ),
};

describe('approval messages', () => {
  for (const [name, build] of Object.entries(approval)) {
    it(`${name} matches its golden file and Slack's limits`, () => {
      const message = build();
      expect(checkMessageBlocks(message.blocks)).toEqual([]);
      golden(name, message);
    });
  }
});

describe('requester messages', () => {
  for (const [name, build] of Object.entries(requester)) {
    it(`${name} matches its golden file and Slack's limits`, () => {
      const message = build();
      expect(checkMessageBlocks(message.blocks)).toEqual([]);
      golden(name, message);
    });
  }
});

describe('modals', () => {
  const views = {
    'modal-request-choose-app': () =>
      requestModal({
        apps: [
          { app: 'github', name: 'GitHub' },
          { app: 'aws', name: 'AWS' },
        ],
        appsExternal: false,
        selectedApp: null,
        roles: null,
        selectedRole: null,
        privateMetadata: '',
      }),
    'modal-request-role-chosen': () =>
      requestModal({
        apps: [{ app: 'github', name: 'GitHub' }],
        appsExternal: false,
        selectedApp: { app: 'github', name: 'GitHub' },
        roles: [
          { app: 'github', role: 'owner', name: 'Organization owner', summary: 'needs 3 approvals · up to 4 hours' },
          { app: 'github', role: 'member', name: 'Member', summary: 'automatic · up to 90 days' },
        ],
        selectedRole: {
          app: 'github',
          role: 'owner',
          name: 'Organization owner',
          summary: 'needs 3 approvals · up to 4 hours',
          durationChoices: [3600, 900, 14400],
          defaultSeconds: 3600,
          maxSeconds: 14400,
          justificationRequired: true,
          policyName: 'github-owner-jit',
          policyVersion: 'cee04e1e1a13d0c4',
          approvalSummary:
            'Needs your manager, then 2 people from Security team, then Grace Hopper (CISO); up to 4 hours.',
        },
        privateMetadata: '',
      }),
    'modal-request-role-pending': () =>
      requestModal({
        apps: [{ app: 'github', name: 'GitHub' }],
        appsExternal: false,
        selectedApp: { app: 'github', name: 'GitHub' },
        roles: [
          { app: 'github', role: 'owner', name: 'Organization owner', summary: 'needs 3 approvals · up to 4 hours' },
        ],
        selectedRole: {
          app: 'github',
          role: 'owner',
          name: 'Organization owner',
          summary: 'needs 3 approvals · up to 4 hours',
          durationChoices: [3600],
          defaultSeconds: 3600,
          maxSeconds: 14400,
          justificationRequired: true,
          policyName: 'github-owner-jit',
          policyVersion: 'cee04e1e1a13d0c4',
          approvalSummary: 'Needs your manager; up to 4 hours.',
        },
        pending: step2Card(),
        privateMetadata: '',
      }),
    'modal-request-no-roles': () =>
      requestModal({
        apps: [{ app: 'github', name: 'GitHub' }],
        appsExternal: false,
        selectedApp: { app: 'github', name: 'GitHub' },
        roles: [],
        noRolesReason: 'You are not in a group that may request a GitHub role.',
        selectedRole: null,
        privateMetadata: '',
      }),
    'modal-extension-offer': () =>
      extensionOfferModal({
        grantId: 'grt_0example0001',
        appName: 'GitHub',
        roleName: 'Organization owner',
        expiresAt: '2026-03-02T14:00:00.000Z',
        maxAddSeconds: 10800,
        choices: [900, 3600, 10800],
        approval: 'same',
        justificationRequired: true,
        now: '2026-03-02T12:00:00.000Z',
        held: true,
        timezone: 'Europe/Berlin',
        privateMetadata: '{"g":"grt_0example0001"}',
      }),
    // The longest extension is said as the end it leads to, not as "12 weeks 5 days 3 hours".
    'modal-extension-offer-long': () =>
      extensionOfferModal({
        grantId: 'grt_0example0001',
        appName: 'AWS production',
        roleName: 'Read-only',
        expiresAt: '2026-03-02T14:00:00.000Z',
        maxAddSeconds: 7_700_000,
        choices: [900, 3600, 86_400, 604_800, 2_592_000, 7_700_000],
        approval: 'auto',
        justificationRequired: false,
        now: '2026-03-02T12:00:00.000Z',
        held: true,
        timezone: 'Europe/Berlin',
        privateMetadata: '{"g":"grt_0example0001"}',
      }),
    'modal-extension-refused': () =>
      extensionOfferModal({
        grantId: 'grt_0example0001',
        appName: 'AWS',
        roleName: 'Administrator',
        expiresAt: '2026-03-02T14:00:00.000Z',
        maxAddSeconds: 0,
        choices: [],
        approval: null,
        justificationRequired: true,
        refusal: 'This role cannot be extended: request it again after it ends.',
        now: '2026-03-02T12:00:00.000Z',
        held: true,
        timezone: 'Europe/Berlin',
        privateMetadata: '',
      }),
    'modal-pending-pointer': () => pendingPointerModal(step2Card()),
    'modal-deny-reason': () => denyReasonModal(pendingCard(), 0, '{"r":"req_0example0001","s":0}'),
    'modal-approve-shorter': () =>
      approveShorterModal(pendingCard(), 0, 900, '{"r":"req_0example0001","s":0,"sec":900}'),
    'modal-deny-already-decided': () => denyReasonModal(approvedCard(), 0, '{"r":"req_0example0001","s":0}'),
  };
  for (const [name, build] of Object.entries(views)) {
    it(`${name} matches its golden file and Slack's limits`, () => {
      const view = build();
      expect(checkView(view, 'modal')).toEqual([]);
      golden(name, view);
    });
  }
});
