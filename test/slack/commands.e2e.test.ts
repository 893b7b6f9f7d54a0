import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION } from '../../blocks/ids.js';
import { hasAction, startSlackFixture, textOf, USERS, type SlackFixture } from './slack-fixture.js';
import { ephemeralAnswer, holdActive, textOfAnswer } from './slack2-helpers.js';
import { examplePolicies } from '../support/lifecycle-harness.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

async function adaAsksForAwsAdmin(): Promise<string> {
  const res = await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'Debug the <!channel> lambda' });
  // A submitted request closes the form (an empty ack); the DM says what happens next.
  expect(res.status).toBe(200);
  expect(res.body).toBe('');
  await fx.slack.waitFor('message', (m) => m.channel === fx.dm('marcus') && hasAction(m, ACTION.approve));
  return (await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId, app: 'aws' }))[0]!.id;
}

describe('/access subcommands', () => {
  it('answers help, a bare /access and unknown subcommands with every subcommand listed', async () => {
    for (const text of ['help', '', 'frobnicate <!here>']) {
      const res = await fx.command('ada', text);
      expect(res.status).toBe(200);
      const body = textOfAnswer(res);
      for (const sub of ['request', 'list', 'pending', 'explain', 'whoami', 'revoke', 'export', 'digest'])
        expect(body).toContain(`/access ${sub}`);
      expect(body).not.toContain('<!here>');
    }
    expect(textOfAnswer(await fx.command('ada', 'frobnicate'))).toContain('Unknown command');
  });

  it("lists my grants with Extend and I'm done, my pending requests with Cancel, and Cancel works from the list", async () => {
    await holdActive(fx, 'ada', 'github', 'member');
    const requestId = await adaAsksForAwsAdmin();
    const res = await fx.command('ada', 'list');
    const list = ephemeralAnswer(res);
    const text = textOf(list);
    expect(text).toContain('GitHub Member');
    expect(text).toContain('AWS Administrator');
    expect(hasAction(list, ACTION.extendGrant)).toBe(true);
    expect(hasAction(list, ACTION.relinquish)).toBe(true);
    expect(hasAction(list, ACTION.cancel)).toBe(true);

    await fx.click('ada', list, ACTION.cancel);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('cancelled');
    expect(textOf(ephemeralAnswer(await fx.command('ada', 'list')))).toContain('None waiting for approval');
  });

  it('shows the approvals waiting for me with their buttons, and Approve from there decides', async () => {
    const requestId = await adaAsksForAwsAdmin();
    expect(textOfAnswer(await fx.command('alan', 'pending'))).toContain('Nothing is waiting for your decision');
    const pending = ephemeralAnswer(await fx.command('marcus', 'pending'));
    expect(textOf(pending)).toContain('<@U0ADA>');
    expect(textOf(pending)).toContain('&lt;!channel&gt;');
    expect(hasAction(pending, ACTION.approve)).toBe(true);
    expect(hasAction(pending, ACTION.deny)).toBe(true);
    await fx.click('marcus', pending, ACTION.approve);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('approved');
  });

  it('explains a role as a policy trace (eligibility, chain, who is asked, how many notified, policy version) and records nothing', async () => {
    const before = (await fx.h.store.auditEvents()).length;
    const res = await fx.command('ada', 'explain github owner');
    const text = textOfAnswer(res);
    // In people's words: who may ask, who approves, by name; the policy terms stay with `policies explain`.
    expect(text).toContain('You may ask*: you are in Platform team');
    expect(text).toContain('Step 1 of 3: your manager* — 1 approval from Marcus Chen');
    expect(text).toContain('Step 2 of 3: 2 people from Security team*');
    expect(text).toContain('Step 3 of 3: Grace Hopper (CISO)*');
    expect(text).toContain('Not automatic for you*: it is automatic for members of SRE oncall, up to 1 hour');
    expect(text).toContain('needs approval: your manager, then 2 people from Security team, then Grace Hopper (CISO).');
    expect(text).not.toContain('auto_approve');
    expect(text).not.toContain('->');
    expect(text).toContain('posts one message in <#C0SECURITY>');
    expect(text).toContain('it would notify 2 people by DM and 1 channel message');
    expect(text).toContain('github-owner-jit');
    expect(text).toContain(fx.h.deps.catalog.find('github', 'owner')!.version.slice(0, 12));
    // Not even the identity binding: explain is a read.
    expect(await fx.h.store.auditEvents()).toHaveLength(before);
    expect(await fx.h.store.bindingForSlackUser(USERS.ada.id)).toBeUndefined();
    expect(fx.slack.workspace.calls('chat.postMessage')).toHaveLength(0);

    expect(textOfAnswer(await fx.command('ian', 'explain aws admin'))).toContain(
      'only members of Platform team may, and you are in none of them',
    );
    expect(textOfAnswer(await fx.command('ian', 'explain nope'))).toContain('There is no application');
    // An unknown role is answered with the same words as `/access request github admin`.
    expect(textOfAnswer(await fx.command('ian', 'explain github admin'))).toContain(
      'GitHub has no role `admin`. Its roles:',
    );
    expect(textOfAnswer(await fx.command('ian', 'explain github'))).toContain('Name a role of GitHub');
  });

  it('shows my identity binding', async () => {
    const text = textOfAnswer(await fx.command('ada', 'whoami'));
    const binding = (await fx.h.store.bindingForSlackUser(USERS.ada.id))!;
    expect(text).toContain(USERS.ada.id);
    expect(text).toContain('u-ada');
    expect(text).toContain('ada@example.com');
    expect(text).toContain(String(Math.floor(Date.parse(binding.boundAt) / 1000)));
  });

  it(
    "posts the digest to the security channel for an admin, with its lists and the week's requests as CSV " +
      'in its thread, and refuses anyone else',
    async () => {
      expect(textOfAnswer(await fx.command('ada', 'digest'))).toContain('Only members of access-admins');
      expect(fx.channel('C0SECURITY')).toHaveLength(0);
      const res = await fx.command('priya', 'digest');
      expect(textOfAnswer(res)).toContain('Posting the digest');
      const posted = await fx.slack.waitFor('message', (m) => m.channel === 'C0SECURITY');
      expect(textOf(posted)).toContain('Weekly access digest');
      // Two files in its thread: every list in full, and the week's requests.
      const file = await fx.slack.waitFor(
        'file',
        (f) => f.channel === 'C0SECURITY' && f.completed && f.filename.startsWith('access-requests-week-'),
      );
      expect(file.threadTs).toBe(posted.ts);
      expect(file.bytes!.toString('utf8')).toContain('request_id,');
      const lists = fx.slack.workspace.files().find((f) => f.filename.startsWith('access-digest-week-'))!;
      expect(lists.threadTs).toBe(posted.ts);
      expect(lists.bytes!.toString('utf8')).toContain('list,person_name,person_email');
      await fx.settle();
      const events = await fx.h.store.auditEvents({ limit: 100_000 });
      const digestEvent = events.find((e) => e.action === 'digest.posted')!;
      // The head the digest printed is the log's head when it was built, before its own CSV export.
      expect(textOf(posted)).toContain(digestEvent.details.auditHead as string);
      const exportEvent = events.find((e) => e.action === 'export.created')!;
      expect(exportEvent.actor).toEqual({ kind: 'system', component: 'digest' });
      expect((digestEvent.details.csv as { sha256: string }).sha256).toBe(exportEvent.details.sha256);
    },
  );

  it('tells a person it cannot match why, rather than failing silently', async () => {
    fx.slack.addUser({ id: 'U0NOBODY', email: 'nobody@example.com', name: 'nobody', realName: 'No Body', tz: 'UTC' });
    const { sendSlashCommand } = await import('../support/slack-signing.js');
    const res = await sendSlashCommand(fx.url, 'e2e-signing-secret', { userId: 'U0NOBODY', text: 'list' });
    expect(JSON.stringify(res.json)).toContain('nobody@example.com is in the directory');
  });
});

describe('a late answer that falls back to an ephemeral message', () => {
  it('is escaped once: R&D shows as R&D, not R&amp;amp;D', async () => {
    const policies = examplePolicies().map((p) => (p.app === 'aws' ? { ...p, name: 'R&D <cloud>' } : p));
    const late = await startSlackFixture({ policies, ackBudgetMs: 20 });
    try {
      // The directory takes longer than the ack budget; the response URL of this command is dead.
      late.h.directory.beforeCall = () => new Promise((resolve) => setTimeout(resolve, 60));
      const res = await late.command('ada', 'explain aws admin');
      expect(res.status).toBe(200);
      const told = await late.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS.ada.id);
      expect(told.text).toContain('R&amp;D &lt;cloud&gt;');
      expect(told.text).not.toContain('&amp;amp;');
    } finally {
      await late.close();
    }
  });
});
