/**
 * Golden Block Kit for the second half of the Slack surface, per state: the expiry loop's DMs, the
 * manual task, alerts, the `/access` replies, the App Home and the admin forms. UPDATE_GOLDEN=1
 * rewrites the files after an intended change; read the diff.
 */
import { describe, expect, it } from 'vitest';
import { exportModal, exportSummaryText, revokeModal } from '../../blocks/admin-modals.js';
import { alertMessage } from '../../blocks/alert-message.js';
import { checkpointMessage } from '../../blocks/checkpoint-message.js';
import { helpMessage, listMessage, pendingMessage, whoamiMessage } from '../../blocks/command-replies.js';
import { explainMessage } from '../../blocks/explain-message.js';
import { homeView } from '../../blocks/home.js';
import { LIMITS } from '../../blocks/limits.js';
import { requesterMessage } from '../../blocks/requester-message.js';
import { taskMessage } from '../../blocks/task-message.js';
import { golden } from './golden-file.js';
import { checkMessageBlocks, checkView } from '../../src/sandbox/slack-api/block-kit-limits.js';
import { approvedCard, pendingCard, step2Card } from './cards.js';
import { crowdedHome, endedCard, explainEvaluation, explainRole, grants, home, requests, task } from './views.js';
import { HELP } from '../../src/adapters/slack/access-commands.js';

const tz = 'Europe/Berlin';

const messages = {
  'requester-reminder-extendable': () =>
    requesterMessage(
      { ...approvedCard(), grant: { ...approvedCard().grant!, extendable: true } },
      { type: 'grant.reminder', leadSeconds: 3600 },
    ),
  'requester-reminder-not-extendable': () =>
    requesterMessage(
      { ...approvedCard(), grant: { ...approvedCard().grant!, extendable: false } },
      { type: 'grant.reminder', leadSeconds: 86400 },
    ),
  'requester-ended-expired': () => requesterMessage(endedCard('expired'), { type: 'grant.revoked' }),
  'requester-ended-relinquished': () => requesterMessage(endedCard('relinquished'), { type: 'grant.revoked' }),
  'requester-ended-revoked-by-admin': () =>
    requesterMessage(
      { ...endedCard('revoked'), grant: { ...endedCard('revoked').grant!, revokedByName: 'Priya Patel' } },
      { type: 'grant.revoked' },
    ),
  'requester-ended-offboarded': () => requesterMessage(endedCard('offboarded'), { type: 'grant.revoked' }),
  'requester-ended-removed-externally': () =>
    requesterMessage(endedCard('removed_externally'), { type: 'grant.revoked' }),
  'task-grant-open': () => taskMessage(task('grant', 'open')),
  'task-grant-done': () => taskMessage(task('grant', 'done')),
  'task-grant-cancelled': () => taskMessage(task('grant', 'cancelled')),
  'task-revoke-open': () => taskMessage(task('revoke', 'open')),
  'requester-ended-expired-manual': () =>
    requesterMessage(
      { ...endedCard('expired'), provisioning: { kind: 'manual', assigneeGroup: 'it-helpdesk' } },
      { type: 'grant.revoked' },
    ),
  'alert-with-grant': () =>
    alertMessage({
      text: 'Setting up GitHub Organization owner for Ada Lovelace (ada@example.com) failed after 5 attempts: <!channel> 500',
      at: '2026-03-02T09:00:00.000Z',
      timezone: tz,
      grant: {
        id: 'grt_0example0001',
        appName: 'GitHub',
        roleName: 'Organization owner',
        holderName: 'Ada Lovelace',
        holderEmail: 'ada@example.com',
        status: 'provisioning_failed',
        durationSeconds: 3600,
      },
      requestId: 'req_0example0001',
    }),
  'alert-plain': () => alertMessage({ text: 'Revocation overdue', at: '2026-03-02T09:00:00.000Z', timezone: tz }),
  'audit-checkpoint': () => {
    const checkpoint = {
      at: '2026-03-02T10:00:00.000Z',
      hash: '8051c0c5c0edb426cb2d7dc517da42283f220b4316f8f9d11533b849ce1d4f22',
      key_id: '15da57c4c5c354d4',
      seq: 1234,
      signature: 'ipUTi2KQcKZiRKDu2i0WNYYutrxIRNZERAoxKwLNqc4HC4ogplJSeoALBItjRzmEiLCs/FmbgLUOvrAWdU2ADg==',
    };
    return checkpointMessage({
      line: JSON.stringify(checkpoint),
      seq: checkpoint.seq,
      hash: checkpoint.hash,
      at: checkpoint.at,
      keyId: checkpoint.key_id,
      timezone: tz,
    });
  },
  'reply-help': () => helpMessage(HELP),
  'reply-list': () => listMessage({ grants: grants(), requests: requests(), timezone: tz }),
  'reply-list-empty': () => listMessage({ grants: [], requests: [], timezone: tz }),
  'reply-pending': () =>
    pendingMessage(
      [
        { card: pendingCard(), stepIndex: 0 },
        { card: step2Card(), stepIndex: 1 },
      ],
      'u-jordan',
    ),
  'reply-pending-none': () => pendingMessage([], 'u-jordan'),
  'reply-explain-needs-approval': () => explainMessage(explainEvaluation('needs_approval'), explainRole),
  'reply-explain-not-eligible': () => explainMessage(explainEvaluation('not_eligible'), explainRole),
  'reply-explain-auto-approved': () => explainMessage(explainEvaluation('auto_approved'), explainRole),
  'reply-whoami': () =>
    whoamiMessage({
      slackUserId: 'U0ADA',
      directoryId: 'u-ada',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      boundAt: '2026-03-01T08:00:00.000Z',
      directoryStatus: 'active',
      timezone: tz,
    }),
};

describe('Slack 2 messages', () => {
  for (const [name, build] of Object.entries(messages)) {
    it(`${name} matches its golden file and Slack's limits`, () => {
      const message = build();
      expect(checkMessageBlocks(message.blocks)).toEqual([]);
      golden(name, message);
    });
  }

  it('never lets typed text mention anyone or forge a link', () => {
    for (const build of Object.values(messages)) {
      const json = JSON.stringify(build());
      expect(json).not.toContain('<!channel>');
      expect(json).not.toContain('<!here>');
    }
  });

  it('keeps a long list within one message, saying how many more there are', () => {
    const many = Array.from({ length: 80 }, (_, i) => ({
      ...grants()[0]!,
      grantId: `grt_0many${String(i).padStart(4, '0')}`,
    }));
    const message = listMessage({
      grants: many,
      requests: Array.from({ length: 30 }, () => requests()[0]!),
      timezone: tz,
    });
    expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    expect(checkMessageBlocks(message.blocks)).toEqual([]);
    expect(JSON.stringify(message.blocks)).toMatch(/and \d+ more/);
  });
});

describe('App Home and admin forms', () => {
  const views = {
    'home-employee': () => homeView(home('employee')),
    'home-approver': () => homeView(home('approver')),
    'home-admin': () => homeView(home('admin')),
    'modal-revoke-empty': () => revokeModal({ personSlackId: null, personName: null, grants: null, timezone: tz }),
    'modal-revoke-person-picked': () =>
      revokeModal({ personSlackId: 'U0ADA', personName: 'Ada Lovelace', grants: grants(), timezone: tz }),
    'modal-revoke-no-grants': () =>
      revokeModal({ personSlackId: 'U0ALAN', personName: 'Alan Turing', grants: [], timezone: tz }),
    'modal-export': () =>
      exportModal({
        apps: [
          { app: 'aws', name: 'AWS' },
          { app: 'github', name: 'GitHub' },
        ],
        defaultPeriod: 'last_30_days',
        timezone: tz,
      }),
  };
  for (const [name, build] of Object.entries(views)) {
    it(`${name} matches its golden file and Slack's limits`, () => {
      const view = build();
      expect(checkView(view, name.startsWith('home') ? 'home' : 'modal')).toEqual([]);
      golden(name, view);
    });
  }

  it('keeps a crowded App Home within 100 blocks, every section present, with "and N more"', () => {
    const view = homeView(crowdedHome());
    expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.viewBlocks);
    expect(checkView(view, 'home')).toEqual([]);
    const json = JSON.stringify(view.blocks);
    for (const heading of [
      'Your access',
      'Your pending requests',
      'Waiting for your approval',
      'Request access',
      'Admin',
    ])
      expect(json).toContain(heading);
    expect(json).toContain('and 28 more grants');
    expect(json.match(/and \d+ more/g)!.length).toBe(5);
  });

  it('summarises an export with its period, hash and audit head', () => {
    const text = exportSummaryText({
      kind: 'requests',
      rows: 14,
      bytes: 9807,
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
      periodLabel: 'last quarter (Q1 2026)',
      filters: { app: 'github' },
      sha256: 'a'.repeat(64),
      auditHead: 'b'.repeat(64),
      auditHeadSeq: 93,
      timezone: 'UTC',
    });
    golden('export-summary', { text });
  });
});
