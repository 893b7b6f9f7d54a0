import { SlackCallGate } from '../../src/adapters/slack/slack-call-gate.js';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK } from '../../blocks/ids.js';
import { exportCsvToBuffer } from '../../src/adapters/csv/export-csv.js';
import { verifyStoredChain } from '../../src/operations/verify-audit-chain.js';
import type { ExportFilters } from '../../src/operations/exports/export-filters.js';
import type { SlackContext } from '../../src/adapters/slack/context.js';
import { DisplayLookups } from '../../src/adapters/slack/display-lookups.js';
import { exportToDm } from '../../src/adapters/slack/export-upload.js';
import { sendBlockAction } from '../support/slack-signing.js';
import { SECRET, startSlackFixture, textOf, USERS, type SlackFixture, type UserName } from './slack-fixture.js';
import { holdActive } from './slack2-helpers.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

const text = (value: unknown) => JSON.stringify(value);

async function openForm(who: UserName, command: 'revoke' | 'export', callbackId: string) {
  const res = await fx.command(who, command);
  expect(res.status).toBe(200);
  return fx.waitModal(who, (v) => v.callbackId === callbackId || text(v.definition).includes('Not allowed'));
}

/** The admin picks a person in the revoke form (a users_select with dispatch_action). */
async function pickPerson(admin: UserName, person: UserName) {
  const view = fx.modal(admin);
  fx.slack.workspace.setViewState(view.id, BLOCK.revokePerson, ACTION.revokePerson, {
    type: 'users_select',
    selected_user: USERS[person].id,
  });
  await sendBlockAction(fx.url, SECRET, {
    userId: USERS[admin].id,
    actionId: ACTION.revokePerson,
    blockId: BLOCK.revokePerson,
    action: { type: 'users_select', selected_user: USERS[person].id },
    triggerId: fx.slack.issueTriggerId(USERS[admin].id),
    view,
  });
  return fx.waitModal(
    admin,
    (v) => text(v.definition).includes(ACTION.revokeGrant) || text(v.definition).includes('holds no access'),
  );
}

const revokeValues = (grantId: string, reason: string) => ({
  [BLOCK.revokePerson]: { [ACTION.revokePerson]: { type: 'users_select', selected_user: USERS.ada.id } },
  [BLOCK.revokeGrant]: { [ACTION.revokeGrant]: { type: 'static_select', selected_option: { value: grantId } } },
  [BLOCK.revokeReason]: { [ACTION.revokeReason]: { type: 'plain_text_input', value: reason } },
});

describe('/access revoke', () => {
  it('refuses a non-admin at the command and at a forged submission, revoking nothing', async () => {
    const grantId = await holdActive(fx, 'ada', 'github', 'member');
    // A refused command is answered as one: an ephemeral reply, and no form.
    const opened = fx.slack.workspace.calls('views.open').length;
    expect((await fx.command('alan', 'revoke')).status).toBe(200);
    const told = await fx.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS.alan.id);
    expect(told.text).toContain('Only members of access-admins');
    expect(fx.slack.workspace.calls('views.open')).toHaveLength(opened);

    // A forged submission: Priya's form, submitted as Alan.
    const form = await openForm('priya', 'revoke', 'access_revoke');
    const res = await fx.submit('alan', revokeValues(grantId, 'because'), { view: form });
    expect(res.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.revokePerson]: expect.stringContaining('Only members of access-admins') },
    });
    expect((await fx.h.store.getGrant(grantId))!.status).toBe('active');
  });

  it('lets an admin pick a person and one of their grants, requires a reason, and tells the holder why', async () => {
    const grantId = await holdActive(fx, 'ada', 'github', 'member');
    await openForm('priya', 'revoke', 'access_revoke');
    const picked = await pickPerson('priya', 'ada');
    // The grant says until when, in the option's own text (not every client draws descriptions).
    expect(text(picked.blocks)).toMatch(/GitHub · Member, until \w{3} \d+ \w{3} \d{4}, \d{2}:\d{2}/);

    const empty = await fx.submit('priya', revokeValues(grantId, '  '), { view: picked });
    expect(empty.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.revokeReason]: expect.stringContaining('needs a reason') },
    });
    expect((await fx.h.store.getGrant(grantId))!.status).toBe('active');

    const done = await fx.submit('priya', revokeValues(grantId, 'Project <!channel> ended'), { view: picked });
    // The form closes; Priya's DM says what she did.
    expect(done.body).toBe('');
    await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('priya') && m.text.includes("You revoked Ada Lovelace's GitHub Member access"),
    );
    expect(await fx.h.store.getGrant(grantId)).toMatchObject({
      revocationReason: 'revoked',
      revocationNote: 'Project <!channel> ended',
      revokedBy: 'priya@example.com',
    });
    await fx.settle();
    const ended = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('ada') && m.text.includes('ended (revoked)'),
    );
    // Named, as everywhere else: not an email.
    expect(textOf(ended)).toContain('Priya Patel revoked your *GitHub Member* access');
    expect(textOf(ended)).toContain('Project &lt;!channel&gt; ended');
  });

  it('refuses, inline, an admin removed from the admin group between opening and submitting the form', async () => {
    const grantId = await holdActive(fx, 'ada', 'github', 'member');
    await openForm('priya', 'revoke', 'access_revoke');
    const picked = await pickPerson('priya', 'ada');
    await fx.h.yaml.removeFromGroup(USERS.priya.directoryId, 'access-admins');
    const res = await fx.submit('priya', revokeValues(grantId, 'leaving'), { view: picked });
    expect(res.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.revokeGrant]: expect.stringContaining('Only members of access-admins') },
    });
    expect((await fx.h.store.getGrant(grantId))!.status).toBe('active');
    expect((await fx.h.store.auditEventsFor({ grantId })).map((e) => e.action)).not.toContain(
      'grant.revocationStarted',
    );
  });
});

const exportValues = (kind: string, period = 'last_30_days') => ({
  [BLOCK.exportKind]: { [ACTION.exportKind]: { type: 'static_select', selected_option: { value: kind } } },
  [BLOCK.exportPeriod]: { [ACTION.exportPeriod]: { type: 'static_select', selected_option: { value: period } } },
});

describe('/access export', () => {
  it('refuses a non-admin at the command and at a forged submission', async () => {
    expect((await fx.command('ada', 'export')).status).toBe(200);
    const told = await fx.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS.ada.id);
    expect(told.text).toContain('Only members of access-admins');
    expect(fx.slack.workspace.calls('views.open')).toHaveLength(0);
    const form = await openForm('priya', 'export', 'access_export');
    const res = await fx.submit('ada', exportValues('requests'), { view: form });
    expect(res.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.exportKind]: expect.stringContaining('Only members of access-admins') },
    });
    expect(fx.slack.workspace.calls('files.getUploadURLExternal')).toHaveLength(0);
    expect((await fx.h.store.auditEvents()).map((e) => e.action)).not.toContain('export.created');
  });

  it('says which field is wrong for a custom period without dates', async () => {
    const form = await openForm('priya', 'export', 'access_export');
    const res = await fx.submit('priya', exportValues('requests', 'custom'), { view: form });
    expect(res.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.exportFrom]: expect.stringContaining('first day') },
    });
  });

  it("uploads the CSV to the admin's DM through the three upload calls, with the right bytes, SHA-256 and audit head", async () => {
    await holdActive(fx, 'ada', 'github', 'member');
    await holdActive(fx, 'alan', 'billing', 'viewer');
    const form = await openForm('priya', 'export', 'access_export');
    const res = await fx.submit('priya', exportValues('requests'), { view: form });
    // The form closes; the CSV arrives in the DM.
    expect(res.body).toBe('');
    const file = await fx.slack.waitFor('file', (f) => f.completed);

    // The three calls of files.uploadV2, the file shared in the DM (a conversation id, not the user id).
    expect(fx.slack.workspace.calls('files.getUploadURLExternal')).toHaveLength(1);
    const complete = fx.slack.workspace.calls('files.completeUploadExternal');
    expect(complete).toHaveLength(1);
    expect(complete[0]!.args.channel_id).toBe(fx.dm('priya'));
    expect(file.channel).toBe(fx.dm('priya'));
    expect(file.filename).toMatch(/^access-requests-\d{4}-\d{2}-\d{2}\.csv$/);

    const event = (await fx.h.store.auditEvents()).find((e) => e.action === 'export.created')!;
    const details = event.details as {
      sha256: string;
      auditHead: string;
      rows: number;
      filters: Record<string, string>;
      destination: string;
    };
    const sha = createHash('sha256').update(file.bytes!).digest('hex');
    expect(sha).toBe(details.sha256);
    expect(details).toMatchObject({ rows: 2, destination: 'slack' });
    expect(event.actor).toMatchObject({ kind: 'person', email: 'priya@example.com' });

    // The same export built again gives the same bytes.
    const filters: ExportFilters = {
      from: details.filters.from ?? null,
      to: details.filters.to ?? null,
      app: null,
      role: null,
      person: null,
    };
    const again = await exportCsvToBuffer(fx.h.deps, {
      kind: 'requests',
      filters,
      requestedBy: { kind: 'system', component: 'test' },
      destination: 'test',
    });
    expect(again.buffer.equals(file.bytes!)).toBe(true);

    // The summary names the file's hash and the audit head `audit verify` printed before the export.
    expect(file.initialComment).toContain(sha);
    expect(file.initialComment).toContain('2 rows');
    expect(file.initialComment).toContain(details.auditHead);
    expect(event.prevHash).toBe(details.auditHead);
    const verified = await verifyStoredChain(fx.h.store, details.auditHead);
    expect(verified.ok).toBe(true);
  });

  it('does not upload an export over the size limit, logs nothing, and points to the command line', async () => {
    await holdActive(fx, 'ada', 'github', 'member');
    const ctx: SlackContext = {
      deps: fx.h.deps,
      teamId: fx.bot.teamId,
      jobs: fx.bot.jobs,
      ackBudgetMs: 2500,
      display: new DisplayLookups(fx.h.deps),
      gate: new SlackCallGate({ clock: fx.h.deps.clock }),
    };
    const admin = await fx.h.as('priya@example.com');
    await exportToDm(
      ctx,
      fx.bot.client,
      {
        admin,
        slackUserId: USERS.priya.id,
        kind: 'events',
        filters: { from: '2026-01-01T00:00:00.000Z', to: null, app: null, role: null, person: null },
        periodLabel: 'this year',
      },
      200,
    );
    const told = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('priya') && m.text.includes('larger than'),
    );
    expect(told.text).toContain('access-bot export events --from 2026-01-01T00:00:00.000Z --out events.csv');
    expect(fx.slack.workspace.calls('files.getUploadURLExternal')).toHaveLength(0);
    expect((await fx.h.store.auditEvents()).map((e) => e.action)).not.toContain('export.created');
  });

  it('refuses at the export itself an admin removed after the form was checked', async () => {
    const form = await openForm('priya', 'export', 'access_export');
    await fx.h.yaml.removeFromGroup(USERS.priya.directoryId, 'access-admins');
    const res = await fx.submit('priya', exportValues('events'), { view: form });
    expect(res.json).toMatchObject({ response_action: 'errors' });
    expect(fx.slack.workspace.calls('files.getUploadURLExternal')).toHaveLength(0);
  });
});
