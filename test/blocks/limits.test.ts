import { describe, expect, it } from 'vitest';
import { approvalMessage } from '../../blocks/approval-message.js';
import { escapeMrkdwn } from '../../blocks/escape.js';
import { LIMITS, truncate, truncateMrkdwn } from '../../blocks/limits.js';
import { extensionOfferModal, requestModal } from '../../blocks/modals.js';
import { requesterMessage } from '../../blocks/requester-message.js';
import type { StepView } from '../../blocks/view-models.js';
import { checkMessageBlocks, checkView } from '../../src/sandbox/slack-api/block-kit-limits.js';
import { pendingCard, step2Card } from './cards.js';

describe('escaping what people typed', () => {
  it('turns &, < and > into entities so mentions and links cannot be forged', () => {
    expect(escapeMrkdwn('<!channel> <@U123> <https://evil.example|wiki> & co')).toBe(
      '&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|wiki&gt; &amp; co',
    );
  });

  it('cuts escaped text without leaving half an entity', () => {
    const cut = truncateMrkdwn(escapeMrkdwn('ab<<<<'), 8);
    expect(cut).toBe('ab&lt;…');
    expect(truncate('x'.repeat(10), 5)).toBe('xxxx…');
  });
});

describe('staying within Slack limits', () => {
  it('truncates a justification of 3,000 "<" characters (12,000 once escaped) within a section', () => {
    const card = { ...pendingCard(), justification: '<'.repeat(3000) };
    const message = approvalMessage(card, 0, { kind: 'person', directoryId: 'u-marcus' });
    expect(checkMessageBlocks(message.blocks)).toEqual([]);
    expect(JSON.stringify(message.blocks)).not.toContain('<<');
    expect(requesterMessage(card, { type: 'request.submitted' }).blocks.length).toBeLessThanOrEqual(
      LIMITS.messageBlocks,
    );
  });

  it('cuts long names in headers, buttons and modal titles', () => {
    const long = 'N'.repeat(400);
    const card = {
      ...pendingCard(),
      appName: long,
      roleName: long,
      requester: { ...pendingCard().requester, name: long },
    };
    expect(checkMessageBlocks(approvalMessage(card, 0, { kind: 'channel' }).blocks)).toEqual([]);
    const offer = extensionOfferModal({
      grantId: 'grt_1',
      appName: long,
      roleName: long,
      expiresAt: null,
      maxAddSeconds: 3600,
      choices: [900, 3600],
      approval: 'auto',
      justificationRequired: false,
      now: '2026-03-02T09:00:00.000Z',
      held: true,
      timezone: 'UTC',
      privateMetadata: '',
    });
    expect(checkView(offer, 'modal')).toEqual([]);
  });

  it('summarises a chain of 60 steps and hundreds of approvers within 50 blocks', () => {
    const card = step2Card();
    const many: StepView[] = Array.from({ length: 60 }, (_, i) => ({
      index: i,
      label: `group team-${i}`,
      approver: { kind: 'group', group: `team-${i}`, minApprovals: 2 },
      required: 2,
      status: i < 59 ? 'approved' : 'open',
      approverCount: 300,
      approverNames: Array.from({ length: 300 }, (_, j) => `Person ${j}`),
      notifyChannel: null,
      fallbackReason: null,
      decisions: [
        {
          person: { name: `Approver ${i}`, email: `a${i}@example.com`, directoryId: `u-${i}` },
          decision: 'approve',
          reason: null,
          shortenedToSeconds: null,
          at: card.createdAt,
        },
      ],
    }));
    const big = { ...card, steps: many, currentStep: 59 };
    const message = approvalMessage(big, 59, { kind: 'channel' });
    expect(checkMessageBlocks(message.blocks)).toEqual([]);
    expect(JSON.stringify(message.blocks)).toContain('…and 50 more steps');
    const submitted = requesterMessage(big, { type: 'request.submitted' });
    expect(checkMessageBlocks(submitted.blocks)).toEqual([]);
  });

  it('offers at most 100 applications and roles in a select', () => {
    const apps = Array.from({ length: 150 }, (_, i) => ({ app: `app-${i}`, name: `Application ${i}` }));
    const roles = Array.from({ length: 150 }, (_, i) => ({
      app: 'app-1',
      role: `role-${i}`,
      name: `Role ${i} ${'x'.repeat(100)}`,
      summary: 's'.repeat(200),
    }));
    const view = requestModal({
      apps,
      appsExternal: false,
      selectedApp: apps[1]!,
      roles,
      selectedRole: null,
      privateMetadata: '',
    });
    expect(checkView(view, 'modal')).toEqual([]);
    const external = requestModal({
      apps,
      appsExternal: true,
      selectedApp: null,
      roles: null,
      selectedRole: null,
      privateMetadata: '',
    });
    expect(checkView(external, 'modal')).toEqual([]);
  });
});
