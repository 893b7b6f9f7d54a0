/**
 * Break-glass end to end: `/access break-glass`, the request form's Emergency access…, the alert in
 * the security channel with Review and Revoke now, Justified / Not justified, and the admins told
 * when nobody reviews it in time, then daily.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK, CALLBACK } from '../../blocks/ids.js';
import { digestBlocks } from '../../blocks/digest.js';
import { buildDigest } from '../../src/operations/build-digest.js';
import { digestTable } from '../../src/operations/digest-table.js';
import { sweep } from '../../src/operations/sweep.js';
import { exportOf } from '../exports/helpers.js';
import type { StoredMessage } from '../../src/sandbox/slack-api/slack-workspace.js';
import { examplePolicies, ONCALL_BREAK_GLASS } from '../support/lifecycle-harness.js';
import { hasAction, startSlackFixture, textOf, USERS, type SlackFixture, type UserName } from './slack-fixture.js';
import { clickInView, openHome, waitEphemeral } from './slack2-helpers.js';

let fx: SlackFixture;
beforeEach(async () => {
  // GitHub owner allows emergency access to the SRE on call (Alan), for at most 1 hour, reviewed
  // by the security team within a day.
  fx = await startSlackFixture({
    policies: examplePolicies({ owner: { breakGlass: ONCALL_BREAK_GLASS } }),
  });
});
afterEach(async () => {
  await fx.close();
});

const JOBS = { worker: 'break-glass-e2e', baseDelaySeconds: 1, random: () => 0.999999 };
const text = (value: unknown) => JSON.stringify(value);

function typedValue(blockId: string, actionId: string, value: string) {
  return { [blockId]: { [actionId]: { type: 'plain_text_input', value } } };
}

/** `/access break-glass github owner` by `who`, waiting for the form. */
async function openBreakGlass(who: UserName) {
  expect((await fx.command(who, 'break-glass github owner')).status).toBe(200);
  return fx.waitModal(who, (v) => v.callbackId === CALLBACK.breakGlass);
}

/** Alan takes emergency access to GitHub owner; returns the grant id once it is active and alerted. */
async function alanBreaksGlass(): Promise<{ grantId: string; alert: StoredMessage }> {
  const form = await openBreakGlass('alan');
  const res = await fx.submit(
    'alan',
    {
      ...typedValue(BLOCK.justification, ACTION.justification, 'Production deploys are stuck: the deploy key expired'),
      ...typedValue(BLOCK.incident, ACTION.incident, 'INC-4242'),
    },
    { view: form },
  );
  expect(res.status).toBe(200);
  expect(res.body).toBe('');
  await fx.settle();
  const grant = (await fx.h.store.listGrants({ holderId: USERS.alan.directoryId, app: 'github', role: 'owner' }))[0]!;
  const alert = await fx.slack.waitFor(
    'message',
    (m) => m.channel === 'C0SECURITY' && m.text.startsWith('Break-glass:'),
  );
  return { grantId: grant.id, alert };
}

describe('taking emergency access', () => {
  it('grants at once, capped at max, and alerts the security channel with who, what, why, until when', async () => {
    const form = await openBreakGlass('alan');
    // The form offers durations up to the cap (1 hour), never the role's 4-hour maximum.
    expect(text(form.blocks)).toContain('at most *1 hour*');
    expect(text(form.blocks)).not.toContain('4 hours');

    const { grantId, alert } = await alanBreaksGlass();
    const grant = (await fx.h.store.getGrant(grantId))!;
    expect(grant).toMatchObject({ status: 'active', breakGlass: true, durationSeconds: 3600 });
    expect(await fx.h.yaml.isMember(USERS.alan.directoryId, 'github-owners')).toBe(true);

    // The notification line says who, what and how long; the blocks add why, the incident and the buttons.
    expect(alert.text).toMatch(
      /^Break-glass: Alan Turing took GitHub Organization owner for 1 hour, until .+ \(needs review\)$/,
    );
    const shown = textOf(alert);
    for (const fact of ['<@U0ALAN>', 'Production deploys are stuck', 'INC-4242', 'Not reviewed yet', 'Security team'])
      expect(shown).toContain(fact);
    expect(hasAction(alert, ACTION.reviewBreakGlass)).toBe(true);
    expect(hasAction(alert, ACTION.revokeBreakGlass)).toBe(true);

    const review = (await fx.h.store.getBreakGlassReview(grantId))!;
    expect(review).toMatchObject({ status: 'pending', incident: 'INC-4242' });
    expect(Date.parse(review.dueAt) - Date.parse(grant.createdAt)).toBe(86_400_000);
    const actions = (await fx.h.store.auditEventsFor({ grantId })).map((e) => e.action);
    expect(actions).toContain('breakGlass.invoked');
    expect(actions).toContain('grant.activated');
    // No approver was asked.
    expect(fx.dms('marcus')).toHaveLength(0);
  });

  it('refuses a person outside break_glass.eligible_groups, a role without break_glass, and no justification', async () => {
    // Ada is on the platform team (eligible for the role) but not on call.
    expect((await fx.command('ada', 'break-glass github owner')).status).toBe(200);
    const notOnCall = await waitEphemeral(fx, 'ada', 'You may not use emergency access');
    expect(notOnCall.text).toContain('sre-oncall');

    expect((await fx.command('alan', 'break-glass aws admin')).status).toBe(200);
    const noRule = await waitEphemeral(fx, 'alan', 'has no emergency access');
    expect(noRule.text).toContain('/access request aws admin');

    const form = await openBreakGlass('alan');
    // Longer than max (1 hour), whatever the form offered: refused on the duration field.
    const tooLong = await fx.submit(
      'alan',
      {
        ...typedValue(BLOCK.justification, ACTION.justification, 'Production is down'),
        [BLOCK.duration]: {
          [ACTION.duration]: { type: 'static_select', selected_option: { value: String(4 * 3600) } },
        },
      },
      { view: form },
    );
    expect(tooLong.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.duration]: expect.stringContaining('longer than emergency access allows (1 hour)') },
    });
    const empty = await fx.submit('alan', typedValue(BLOCK.justification, ACTION.justification, '   '), { view: form });
    expect(empty.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.justification]: expect.stringContaining('needs a justification') },
    });

    // A forged submission of Alan's form by Ada is refused by the core too.
    const forged = await fx.submit('ada', typedValue(BLOCK.justification, ACTION.justification, 'Let me in'), {
      view: form,
    });
    expect(text(forged.json)).toContain('You may not use emergency access');

    expect(await fx.h.store.listGrants({ app: 'github', role: 'owner' })).toHaveLength(0);
    expect(fx.channel('C0SECURITY')).toHaveLength(0);
    // The submissions are audited (the forms a command refused to open were never an attempt).
    const refused = (await fx.h.store.auditEvents())
      .filter((e) => e.action === 'request.refused')
      .map((e) => e.details.outcome);
    expect(refused).toEqual(['invalid_duration', 'justification_required', 'not_eligible']);
  });

  it('offers Emergency access… in the request form to an eligible person only', async () => {
    expect((await fx.command('alan', 'request github owner')).status).toBe(200);
    const form = await fx.waitModal('alan', (v) => text(v.definition.blocks).includes(ACTION.duration));
    expect(text(form.blocks)).toContain(ACTION.openBreakGlass);
    const clicked = clickInView(fx, 'alan', fx.slack.workspace.currentModal(USERS.alan.id)!, ACTION.openBreakGlass);
    expect((await clicked).status).toBe(200);
    await fx.waitModal('alan', (v) => v.callbackId === CALLBACK.breakGlass);

    expect((await fx.command('ada', 'request github owner')).status).toBe(200);
    const adas = await fx.waitModal('ada', (v) => text(v.definition.blocks).includes(ACTION.duration));
    expect(text(adas.blocks)).not.toContain(ACTION.openBreakGlass);
  });
});

describe('reviewing emergency access', () => {
  async function review(who: UserName, alert: StoredMessage, outcome: 'justified' | 'not_justified', reason: string) {
    expect((await fx.click(who, alert, ACTION.reviewBreakGlass)).status).toBe(200);
    const form = await fx.waitModal(
      who,
      (v) => v.callbackId === CALLBACK.breakGlassReview || text(v.definition).includes('Not found'),
    );
    return fx.submit(
      who,
      {
        [BLOCK.reviewOutcome]: {
          [ACTION.reviewOutcome]: { type: 'radio_buttons', selected_option: { value: outcome } },
        },
        ...typedValue(BLOCK.reason, ACTION.reason, reason),
      },
      { view: form },
    );
  }

  it('never lets the grantee review their own; Justified keeps the access and updates the alert', async () => {
    const { grantId, alert } = await alanBreaksGlass();
    const own = await review('alan', alert, 'justified', 'It was needed');
    expect(text(own.json)).toContain('cannot review your own');
    // Not a reviewer and not an admin: refused.
    const ada = await review('ada', alert, 'justified', '');
    expect(text(ada.json)).toContain('Only the reviewers');
    expect((await fx.h.store.getBreakGlassReview(grantId))!.status).toBe('pending');

    const sam = await review('sam', alert, 'justified', 'Matches INC-4242');
    expect(sam.status).toBe(200);
    const updated = await fx.slack.waitFor('update', (m) => m.ts === alert.ts && textOf(m).includes('Justified'));
    expect(updated.text).toContain('reviewed: justified');
    expect(hasAction(updated, ACTION.reviewBreakGlass)).toBe(false);
    expect(hasAction(updated, ACTION.revokeBreakGlass)).toBe(true);
    expect((await fx.h.store.getGrant(grantId))!.status).toBe('active');
    expect(await fx.h.store.getBreakGlassReview(grantId)).toMatchObject({
      status: 'justified',
      reviewer: { email: 'sam@example.com' },
    });
  });

  it('Not justified needs a reason, revokes the grant, and alerts again', async () => {
    const { grantId, alert } = await alanBreaksGlass();
    const noReason = await review('sam', alert, 'not_justified', '  ');
    expect(noReason.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.reason]: expect.stringContaining('Say why') },
    });
    expect((await fx.h.store.getGrant(grantId))!.status).toBe('active');

    await review('sam', alert, 'not_justified', 'No incident was open at that time');
    await fx.settle();
    expect((await fx.h.store.getGrant(grantId))!.status).toBe('revoked');
    expect(await fx.h.yaml.isMember(USERS.alan.directoryId, 'github-owners')).toBe(false);
    const again = await fx.slack.waitFor(
      'message',
      (m) => m.channel === 'C0SECURITY' && m.text.startsWith('Not justified by Sam Rivera'),
    );
    expect(textOf(again)).toContain('No incident was open at that time');
    // The holder hears the outcome.
    await fx.slack.waitFor('message', (m) => m.channel === fx.dm('alan') && /not justified/i.test(m.text));
    const actions = (await fx.h.store.auditEventsFor({ grantId })).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['breakGlass.reviewed', 'grant.revocationStarted', 'grant.revoked']),
    );

    // Every export marks it, with the review's outcome, reviewer and time.
    const requests = await exportOf(fx.h, 'requests');
    expect(requests.rows.find((r) => r.grant_id === grantId)).toMatchObject({
      kind: 'break_glass',
      break_glass: 'true',
      break_glass_incident: 'INC-4242',
      break_glass_review: 'not_justified',
      break_glass_reviewed_by: 'Sam Rivera <sam@example.com>',
      break_glass_reviewed_at: expect.stringMatching(/^2\d{3}-/),
      break_glass_review_reason: 'No incident was open at that time',
      approval_summary: 'break-glass: emergency access without approval, reviewed afterwards (not_justified)',
    });
    const access = await exportOf(fx.h, 'access');
    expect(access.rows.find((r) => r.grant_id === grantId)).toMatchObject({
      break_glass: 'true',
      break_glass_review: 'not_justified',
      break_glass_reviewed_by: 'Sam Rivera <sam@example.com>',
    });
  });

  it('Revoke now ends the access for a reviewer or an admin, and the review stays owed', async () => {
    const { grantId, alert } = await alanBreaksGlass();
    expect((await fx.click('priya', alert, ACTION.revokeBreakGlass)).status).toBe(200);
    const form = await fx.waitModal('priya', (v) => v.callbackId === CALLBACK.breakGlassRevoke);
    await fx.submit('priya', typedValue(BLOCK.reason, ACTION.reason, 'Incident resolved'), { view: form });
    await fx.settle();
    expect(await fx.h.store.getGrant(grantId)).toMatchObject({
      status: 'revoked',
      revocationNote: 'Incident resolved',
    });
    expect((await fx.h.store.getBreakGlassReview(grantId))!.status).toBe('pending');
    const updated = await fx.slack.waitFor(
      'update',
      (m) => m.ts === alert.ts && textOf(m).includes('Incident resolved'),
    );
    expect(hasAction(updated, ACTION.revokeBreakGlass)).toBe(false);
    expect(hasAction(updated, ACTION.reviewBreakGlass)).toBe(true);
  });

  it("shows reviews to do in a reviewer's App Home, and not in the grantee's", async () => {
    await alanBreaksGlass();
    const kims = await openHome(fx, 'kim');
    expect(text(kims.definition.blocks)).toContain(ACTION.reviewBreakGlass);
    expect(text(kims.definition.blocks)).toContain('Alan Turing');
    const alans = await openHome(fx, 'alan');
    expect(text(alans.definition.blocks)).not.toContain(ACTION.reviewBreakGlass);
  });
});

describe('nobody reviewing in time', () => {
  it('alerts the admins when review_within passes, then once a day until someone reviews it', async () => {
    const { grantId, alert } = await alanBreaksGlass();
    const overdue = (who: UserName) => fx.dms(who).filter((m) => m.text.startsWith('Unreviewed break-glass'));
    const sweepAt = async (hours: number) => {
      fx.h.clock.set(
        new Date(Date.parse((await fx.h.store.getGrant(grantId))!.createdAt) + hours * 3_600_000).toISOString(),
      );
      await sweep(fx.h.deps, JOBS);
      await sweep(fx.h.deps, JOBS);
      await fx.settle();
    };
    await sweepAt(23);
    expect(overdue('priya')).toHaveLength(0);
    await sweepAt(24.5);
    expect(overdue('priya')).toHaveLength(1);
    expect(overdue('grace')).toHaveLength(1);
    expect(overdue('sam')).toHaveLength(0);
    await sweepAt(30);
    expect(overdue('priya')).toHaveLength(1);
    await sweepAt(48.5);
    expect(overdue('priya')).toHaveLength(2);
    expect(
      (await fx.h.store.auditEventsFor({ grantId })).filter((e) => e.action === 'breakGlass.reviewOverdue'),
    ).toHaveLength(2);

    // The weekly digest lists it with its review state: overdue before the review, justified after.
    const before = await buildDigest(fx.h.deps, fx.h.clock.now());
    expect(before.breakGlass).toMatchObject([{ grantId, review: 'pending', overdue: true, reviewer: null }]);
    expect(JSON.stringify(digestBlocks(before).blocks)).toContain('NOT REVIEWED, was due');

    // An admin reviews it from the alert; no more reminders.
    expect((await fx.click('priya', alert, ACTION.reviewBreakGlass)).status).toBe(200);
    const form = await fx.waitModal('priya', (v) => v.callbackId === CALLBACK.breakGlassReview);
    await fx.submit(
      'priya',
      {
        [BLOCK.reviewOutcome]: {
          [ACTION.reviewOutcome]: { type: 'radio_buttons', selected_option: { value: 'justified' } },
        },
      },
      { view: form },
    );
    await sweepAt(72.5);
    expect(overdue('priya')).toHaveLength(2);
    const digest = await buildDigest(fx.h.deps, fx.h.clock.now());
    expect(digest.breakGlass).toMatchObject([
      { grantId, review: 'justified', reviewer: 'Priya Patel', overdue: false },
    ]);
    expect(digestBlocks(digest).text + JSON.stringify(digestBlocks(digest).blocks)).toContain('justified (Priya Patel');
    // The digest's CSV lists it in full.
    const table = digestTable(digest);
    const row = table.rows.find((r) => r[table.columns.indexOf('list')] === 'break_glass')!;
    expect(row[table.columns.indexOf('grant_id')]).toBe(grantId);
    expect(row[table.columns.indexOf('detail')]).toMatch(/^3600 s; justified by Priya Patel at 2\d{3}-/);
    expect(await fx.h.store.getBreakGlassReview(grantId)).toMatchObject({
      status: 'justified',
      reviewer: { email: 'priya@example.com' },
    });
  });
});
