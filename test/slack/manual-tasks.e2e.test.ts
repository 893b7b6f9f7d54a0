import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION } from '../../blocks/ids.js';
import type { StoredMessage } from '../../src/sandbox/slack-api/slack-workspace.js';
import { hasAction, startSlackFixture, textOf, USERS, type SlackFixture, type UserName } from './slack-fixture.js';
import { waitTold } from './slack2-helpers.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

function taskMessages(who: UserName, taskId: string): StoredMessage[] {
  return fx.dms(who).filter((m) => textOf(m).includes(taskId));
}

describe('manual provisioning tasks in Slack', () => {
  it("asks every assignee but the grantee, refuses the grantee's Done, and the grant follows the task both ways", async () => {
    // Laptop local admin: auto-approved, provisioned by hand by it-helpdesk (Ian, Priya and Ada herself).
    const res = await fx.requestViaModal('ada', 'laptop', 'local-admin', {
      justification: 'Install the <!here> printer driver',
    });
    // A submitted request closes the form (an empty ack); the DM says what happens next.
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    fx.slack.workspace.closeModals(USERS.ada.id);
    await fx.settle();
    const grant = (await fx.h.store.listGrants({ holderId: USERS.ada.directoryId, app: 'laptop' }))[0]!;
    const task = (await fx.h.store.getTaskFor(grant.id, 'grant'))!;
    expect(grant.status).toBe('provisioning');

    const ians = await fx.slack.waitFor('message', (m) => m.channel === fx.dm('ian') && hasAction(m, ACTION.taskDone));
    expect(textOf(ians)).toContain('Please give Ada Lovelace (ada@example.com) *Laptop Local administrator* by hand');
    // The person doing it reads why.
    expect(textOf(ians)).toContain('>Install the &lt;!here&gt; printer driver');
    // The requester hears that a person does it by hand, not "you will get a message when it is active" alone.
    const waiting = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('ada') && m.text.includes('was approved'),
    );
    expect(textOf(waiting)).toContain('Someone from *IT helpdesk* sets it up by hand');
    // And the task waits on Ian's App Home too, with Done.
    const { openHome } = await import('./slack2-helpers.js');
    const iansHome = await openHome(fx, 'ian');
    expect(JSON.stringify(iansHome.definition.blocks)).toContain('Your tasks');
    expect(JSON.stringify(iansHome.definition.blocks)).toContain(
      'Give Ada Lovelace *Laptop Local administrator* by hand',
    );
    expect(taskMessages('priya', task.id)).toHaveLength(1);
    expect(taskMessages('ada', task.id)).toHaveLength(0);

    // The grantee forges a Done click with Ian's button.
    await fx.click('ada', { ...ians, channel: fx.dm('ada') }, ACTION.taskDone);
    await waitTold(fx, 'ada', 'cannot complete a task for your own access');
    // Someone outside the group is refused too.
    await fx.click('alan', { ...ians, channel: fx.dm('alan') }, ACTION.taskDone);
    await waitTold(fx, 'alan', 'Only members of it-helpdesk');
    expect((await fx.h.store.getTask(task.id))!.status).toBe('open');
    expect((await fx.h.store.getGrant(grant.id))!.status).toBe('provisioning');

    // The stand-in updates messages in place: keep the copy with the button Priya still has on screen.
    const stale = structuredClone(ians);
    await fx.click('ian', ians, ACTION.taskDone);
    expect((await fx.h.store.getGrant(grant.id))!.status).toBe('active');
    await fx.settle();
    for (const who of ['ian', 'priya'] as const) {
      const [copy] = taskMessages(who, task.id);
      expect(hasAction(copy!, ACTION.taskDone)).toBe(false);
      expect(textOf(copy!)).toContain('*Done* by Ian Murdock');
    }
    const active = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('ada') && m.text.includes('You now have Laptop Local administrator'),
    );
    // No promise of an automatic removal: people remove it.
    expect(textOf(active)).toContain('When it ends, someone from IT helpdesk removes it by hand.');
    expect(textOf(active)).not.toContain('removed automatically');
    expect(textOf(active)).toContain(
      'Someone from IT helpdesk is asked to remove your Laptop Local administrator access now.',
    );

    // A second Done on a stale copy changes nothing and says why.
    await fx.click('priya', { ...stale, channel: fx.dm('priya') }, ACTION.taskDone);
    await waitTold(fx, 'priya', 'already marked done');

    // Ending the grant makes a revoke task the same way; the grant is revoked once it is done.
    const { relinquishGrant } = await import('../../src/operations/revoke-grant.js');
    await relinquishGrant(fx.h.deps, { actor: await fx.h.as('ada@example.com'), grantId: grant.id });
    await fx.settle();
    const revokeTask = (await fx.h.store.getTaskFor(grant.id, 'revoke'))!;
    const priyas = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('priya') && textOf(m).includes(revokeTask.id) && hasAction(m, ACTION.taskDone),
    );
    expect(textOf(priyas)).toContain('Please remove *Laptop Local administrator* from Ada Lovelace');
    expect((await fx.h.store.getGrant(grant.id))!.status).toBe('revoking');
    await fx.click('priya', priyas, ACTION.taskDone);
    expect((await fx.h.store.getGrant(grant.id))!.status).toBe('revoked');
    await fx.settle();
    expect(textOf(taskMessages('ian', revokeTask.id)[0]!)).toContain('*Done* by Priya Patel');
    await fx.slack.waitFor('message', (m) => m.channel === fx.dm('ada') && m.text.includes('ended'));
  });
});

describe('a manual task whose grant ends before anyone sets it up', () => {
  it.each([
    [
      'offboarded',
      async () =>
        (await import('../../src/operations/revoke-grant.js')).offboardPerson(fx.h.deps, {
          directoryId: USERS.ada.directoryId,
          source: 'test',
          status: 'deprovisioned',
        }),
    ],
    [
      'revoked by an admin',
      async (grantId: string) =>
        (await import('../../src/operations/revoke-grant.js')).revokeGrantAsAdmin(fx.h.deps, {
          actor: await fx.h.as('ciso@example.com'),
          grantId,
          reason: 'not needed',
        }),
    ],
  ])(
    'says on every copy that it is no longer needed, loses Done, and a Done click changes nothing (%s)',
    async (_how, end) => {
      await fx.requestViaModal('ada', 'laptop', 'local-admin', {});
      fx.slack.workspace.closeModals(USERS.ada.id);
      await fx.settle();
      const grant = (await fx.h.store.listGrants({ holderId: USERS.ada.directoryId, app: 'laptop' }))[0]!;
      const task = (await fx.h.store.getTaskFor(grant.id, 'grant'))!;
      const ians = await fx.slack.waitFor(
        'message',
        (m) => m.channel === fx.dm('ian') && hasAction(m, ACTION.taskDone),
      );
      const stale = structuredClone(ians);

      await end(grant.id);
      await fx.settle();
      expect((await fx.h.store.getGrant(grant.id))!.status).toBe('revoked');
      expect((await fx.h.store.getTask(task.id))!.status).toBe('cancelled');
      expect(await fx.h.store.getTaskFor(grant.id, 'revoke')).toBeUndefined(); // nothing was set up, so nothing to remove
      for (const who of ['ian', 'priya'] as const) {
        const [copy] = taskMessages(who, task.id);
        expect(hasAction(copy!, ACTION.taskDone)).toBe(false);
        expect(textOf(copy!)).toContain('No longer needed');
      }

      await fx.click('ian', { ...stale, channel: fx.dm('ian') }, ACTION.taskDone);
      await waitTold(fx, 'ian', 'Your click changed nothing: this task is no longer needed');
      expect((await fx.h.store.getTask(task.id))!.status).toBe('cancelled');
      expect((await fx.h.store.auditEventsFor({ grantId: grant.id })).map((e) => e.action)).not.toContain(
        'task.completed',
      );
    },
  );
});
