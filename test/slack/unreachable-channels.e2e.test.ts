/**
 * A configured channel the bot cannot see answers `channel_not_found` (a private channel it was not
 * invited to). No step may wait on a message nobody sees: the approval step asks its approvers by
 * DM, and the alerts channel is told (or, for the alerts channel itself, the log says so loudly).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK, durationBlockId } from '../../blocks/ids.js';
import { hasAction, startSlackFixture, textOf, USERS, type SlackFixture } from './slack-fixture.js';

let fx: SlackFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function adaRequestsOwner(f: SlackFixture): Promise<string> {
  await f.command('ada', 'request github owner');
  const view = await f.waitModal('ada', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
  await f.submit(
    'ada',
    {
      [durationBlockId('github', 'owner')]: {
        [ACTION.duration]: { type: 'static_select', selected_option: { value: '3600' } },
      },
      [BLOCK.justification]: { [ACTION.justification]: { type: 'plain_text_input', value: 'INC-7' } },
    },
    { view },
  );
  return (await f.h.store.listRequests({ requesterId: USERS.ada.directoryId }))[0]!.id;
}

describe('a notify: channel the bot cannot see', () => {
  it("asks the step's approvers by DM, alerts the alerts channel once, and the step is decided there", async () => {
    fx = await startSlackFixture({ privateChannels: ['C0SECURITY'] });
    const f = fx;
    const requestId = await adaRequestsOwner(f);
    const ask1 = await f.slack.waitFor('message', (m) => m.channel === f.dm('marcus') && hasAction(m, ACTION.approve));
    await f.click('marcus', ask1, ACTION.approve);
    await f.settle();

    // Each member of security-team is asked in their DM instead, as a person would be.
    const asks = (['sam', 'jordan', 'kim'] as const).map((who) => f.dms(who).find((m) => hasAction(m, ACTION.approve)));
    for (const ask of asks) {
      expect(ask).toBeDefined();
      expect(textOf(ask!)).toContain('Step 2 of 3');
    }
    expect(await f.h.store.listJobs({ status: ['dead'] })).toEqual([]);
    const alerts = f
      .channel('C0ACCESSOPS')
      .filter((m) => m.text.includes('C0SECURITY') || textOf(m).includes('C0SECURITY'));
    expect(alerts).toHaveLength(1);
    expect(textOf(alerts[0]!)).toContain('channel_not_found');

    await f.click('sam', asks[0]!, ACTION.approve);
    await f.click('kim', asks[2]!, ACTION.approve);
    await f.settle();
    expect((await f.h.store.getSteps(requestId)).find((s) => s.index === 1)?.status).toBe('approved');
    // Every DM copy shows the outcome and loses its buttons, Jordan's included.
    for (const who of ['sam', 'jordan', 'kim'] as const) {
      const copy = f.dms(who).find((m) => m.ts === asks[['sam', 'jordan', 'kim'].indexOf(who)]!.ts)!;
      expect(hasAction(copy, ACTION.approve)).toBe(false);
      expect(textOf(copy)).toContain('Sam Rivera and Kim Nguyen');
    }
    // Still one alert, however many messages were meant for the channel.
    expect(f.channel('C0ACCESSOPS').filter((m) => textOf(m).includes('C0SECURITY'))).toHaveLength(1);
  });

  it('posts there once the bot is invited: the digest is retried, not given up', async () => {
    fx = await startSlackFixture({ privateChannels: ['C0SECURITY'] });
    const f = fx;
    const priya = await f.command('priya', 'digest');
    expect(priya.status).toBe(200);
    await f.settle();
    const job = (await f.h.store.listJobs({})).find((j) => j.key.startsWith('notify:digest'))!;
    expect(job.status).toBe('pending');
    expect(job.lastError).toContain('channel_not_found');

    f.slack.workspace.setBotMembership('C0SECURITY', true);
    f.h.clock.advance(120);
    await f.settle();
    expect((await f.h.store.getJobByKey(job.key))?.status).toBe('done');
    expect(f.channel('C0SECURITY').some((m) => m.text.startsWith('Weekly access digest'))).toBe(true);
  });

  it('says loudly at start and at each failure when the alerts channel itself is unreachable', async () => {
    const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    fx = await startSlackFixture({ privateChannels: ['C0ACCESSOPS'], logger: { lines } });
    const alertsUnreachable = (l: (typeof lines)[number]) =>
      l.level === 'error' && l.msg.startsWith('THE ALERTS CHANNEL IS UNREACHABLE');
    expect(lines.some((l) => alertsUnreachable(l) && l.fields?.channel === 'C0ACCESSOPS')).toBe(true);
    const atStart = lines.length;

    // A provisioning failure is alerted: the alert cannot be posted, and the log says so again.
    const f = fx;
    f.h.directory.failNext('addToGroup', new Error('Okta said no'), 20);
    await f.requestViaModal('alan', 'github', 'triage', {});
    for (let i = 0; i < 10; i++) {
      await f.settle();
      f.h.clock.advance(3600);
    }
    expect(lines.slice(atStart).some(alertsUnreachable)).toBe(true);
  });
});
