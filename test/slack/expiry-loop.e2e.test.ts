import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK } from '../../blocks/ids.js';
import { sweep } from '../../src/operations/sweep.js';
import type { StoredMessage } from '../../src/sandbox/slack-api/slack-workspace.js';
import { hasAction, startSlackFixture, textOf, type SlackFixture } from './slack-fixture.js';
import { holdActive, waitTold } from './slack2-helpers.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

const JOBS = { worker: 'expiry-e2e', baseDelaySeconds: 1, random: () => 0.999999 };

/** The reminders, as they read now: an earlier one says when the access ends rather than "in 1 day". */
function reminders(): StoredMessage[] {
  return fx.dms('ada').filter((m) => /access ends/.test(m.text));
}

/**
 * Moves the runtime's clock to `seconds` before the grant's expiry, then sweeps twice (a repeated pass changes
 * nothing).
 */
async function sweepAt(grantId: string, secondsBefore: number): Promise<void> {
  const expiresAt = (await fx.h.store.getGrant(grantId))!.expiresAt!;
  fx.h.clock.set(new Date(Date.parse(expiresAt) - secondsBefore * 1000).toISOString());
  await sweep(fx.h.deps, JOBS);
  await sweep(fx.h.deps, JOBS);
  await fx.settle();
}

describe('the expiry loop in Slack', () => {
  it("reminds once per lead time, each reminder with Extend and I'm done", async () => {
    const grantId = await holdActive(fx, 'ada', 'github', 'member');
    await sweepAt(grantId, 2 * 86400);
    expect(reminders()).toHaveLength(0);

    await sweepAt(grantId, 86400 - 60);
    expect(reminders()).toHaveLength(1);
    expect(reminders()[0]!.text).toContain('ends in 1 day');
    await sweepAt(grantId, 86400 - 120);
    expect(reminders()).toHaveLength(1);

    await sweepAt(grantId, 3600 - 60);
    expect(reminders()).toHaveLength(2);
    expect(reminders()[1]!.text).toContain('ends in 1 hour');
    // The day-before reminder no longer says "in 1 day": it says when, as it stands.
    expect(reminders()[0]!.text).not.toContain('ends in 1 day');
    await sweepAt(grantId, 60);
    expect(reminders()).toHaveLength(2);
    for (const reminder of reminders()) {
      expect(hasAction(reminder, ACTION.extendGrant)).toBe(true);
      expect(hasAction(reminder, ACTION.relinquish)).toBe(true);
    }
    expect((await fx.h.store.auditEventsFor({ grantId })).filter((e) => e.action === 'grant.reminded')).toHaveLength(2);
  });

  it('Extend opens the extension offer for the holder only; the offer extends the grant', async () => {
    const grantId = await holdActive(fx, 'ada', 'github', 'member');
    await sweepAt(grantId, 3600);
    const reminder = reminders()[0]!;
    const before = (await fx.h.store.getGrant(grantId))!.expiresAt!;

    // A forged click: Alan presses Ada's Extend from his own conversation. The modal opens at once
    // (before anyone is identified) and tells him why not; it never shows Ada's grant.
    await fx.click('alan', { ...reminder, channel: fx.dm('alan') }, ACTION.extendGrant);
    const refused = await fx.waitModal('alan', (v) =>
      JSON.stringify(v.definition).includes('Only the person who holds this access'),
    );
    expect(JSON.stringify(refused)).not.toContain('Extend by up to');

    // Okta is slow: identifying Ada takes 5 s of Slack's time, longer than a trigger id lives.
    // The modal was opened first, so the offer still arrives.
    fx.h.directory.beforeCall = () => fx.h.clock.advance(5);
    await fx.click('ada', reminder, ACTION.extendGrant);
    const offer = await fx.waitModal('ada', (v) => v.callbackId === 'access_extend');
    expect(JSON.stringify(offer.blocks)).toContain('You can extend it until');
    // Each choice says where it leads, in Ada's zone.
    expect(JSON.stringify(offer.blocks)).toContain('1 week: until');
    fx.h.directory.beforeCall = undefined;
    const res = await fx.submit(
      'ada',
      {
        [BLOCK.extendBy]: {
          [ACTION.extendBy]: { type: 'static_select', selected_option: { value: String(7 * 86400) } },
        },
      },
      { view: offer },
    );
    // The form closes; the DM says it was extended.
    expect(res.body).toBe('');
    const after = (await fx.h.store.getGrant(grantId))!.expiresAt!;
    expect(Date.parse(after) - Date.parse(before)).toBe(7 * 86400 * 1000);
    await fx.settle();
    const token = (iso: string) => `<!date^${Math.floor(Date.parse(iso) / 1000)}^`;
    expect(fx.dms('ada').some((m) => m.text.includes('was extended') && textOf(m).includes(token(after)))).toBe(true);
    // The reminder, still in the DM, no longer names the old end: it says the new one, with its buttons.
    const updated = fx.slack.workspace.findMessage(fx.dm('ada'), reminder.ts)!;
    expect(textOf(updated)).toContain(token(after));
    expect(textOf(updated)).not.toContain(token(before));
    expect(hasAction(updated, ACTION.extendGrant)).toBe(true);
  });

  it("I'm done relinquishes for the holder only; the ended message says why and Re-request opens the form prefilled", async () => {
    const grantId = await holdActive(fx, 'ada', 'github', 'member');
    await sweepAt(grantId, 3600);
    const reminder = reminders()[0]!;

    await fx.click('alan', { ...reminder, channel: fx.dm('alan') }, ACTION.relinquish);
    await waitTold(fx, 'alan', 'Only the person who holds this access');
    expect((await fx.h.store.getGrant(grantId))!.status).toBe('active');

    await fx.click('ada', reminder, ACTION.relinquish);
    expect(await fx.h.store.getGrant(grantId)).toMatchObject({ revocationReason: 'relinquished' });
    await fx.settle();
    expect((await fx.h.store.getGrant(grantId))!.status).toBe('revoked');
    const ended = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('ada') && m.text.includes('ended (relinquished)'),
    );
    expect(textOf(ended)).toContain('You gave back your *GitHub Member* access');
    expect(hasAction(ended, ACTION.rerequest)).toBe(true);
    // The reminder lost Extend and I'm done: the access is gone.
    const stale = fx.slack.workspace.findMessage(fx.dm('ada'), reminder.ts)!;
    expect(hasAction(stale, ACTION.extendGrant)).toBe(false);
    expect(hasAction(stale, ACTION.relinquish)).toBe(false);
    expect(stale.text).toContain('has ended');

    await fx.click('ada', ended, ACTION.rerequest);
    const form = await fx.waitModal(
      'ada',
      (v) => v.callbackId === 'access_request' && JSON.stringify(v.definition.blocks).includes(ACTION.duration),
    );
    expect(JSON.stringify(form.blocks)).toContain('"value":"github"');
    expect(JSON.stringify(form.blocks)).toContain('"value":"member"');
  });

  it('says the grant expired when it did', async () => {
    const grantId = await holdActive(fx, 'ada', 'github', 'member');
    await sweepAt(grantId, -60);
    expect(await fx.h.store.getGrant(grantId)).toMatchObject({ status: 'revoked', revocationReason: 'expired' });
    const ended = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('ada') && m.text.includes('ended (expired)'),
    );
    expect(textOf(ended)).toMatch(/access expired <!date\^\d+\^[^>]+> and was removed\./);
    expect(hasAction(ended, ACTION.rerequest)).toBe(true);
  });

  it('alerts the alerts channel and tells the holder when access is removed outside the bot', async () => {
    const grantId = await holdActive(fx, 'ada', 'github', 'member');
    const { recordExternalRemoval } = await import('../../src/operations/revoke-grant.js');
    expect(
      await recordExternalRemoval(fx.h.deps, { grantId, detail: 'not in <!channel> github-members any more' }),
    ).toBe(true);
    await fx.settle();
    const alert = await fx.slack.waitFor('message', (m) => m.channel === 'C0ACCESSOPS');
    expect(textOf(alert)).toContain('Access alert');
    expect(textOf(alert)).toContain('Ada Lovelace (ada@example.com)');
    expect(textOf(alert)).toContain(grantId);
    expect(textOf(alert)).not.toContain('<!channel>');
    const ended = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('ada') && m.text.includes('ended (removed externally)'),
    );
    expect(textOf(ended)).toContain('removed by hand in the directory, outside the bot');
  });
});
