/** Helpers for the Slack 2 end-to-end tests: ephemeral replies as clickable messages, the App Home, grants in place. */
import { expect } from 'vitest';
import { ACTION } from '../../blocks/ids.js';
import type { StoredMessage, StoredView } from '../../src/sandbox/slack-api/slack-workspace.js';
import { apiView } from '../../src/sandbox/slack-api/web-api-methods.js';
import { sendBlockAction, sendEvent, type SlackHttpResult, type SlackViewPayload } from '../support/slack-signing.js';
import { findElement, SECRET, USERS, type SlackFixture, type UserName } from './slack-fixture.js';

/** An ephemeral command answer (its JSON body), as the message the person clicks in. */
export function ephemeralAnswer(res: SlackHttpResult, channel = 'C0GENERAL'): StoredMessage {
  const body = res.json as { text?: string; blocks?: unknown[] };
  expect(body?.blocks, `expected blocks in ${res.body}`).toBeDefined();
  return {
    channel,
    ts: '1700000000.000001',
    user: 'U0ACCESSBOT',
    text: body.text ?? '',
    blocks: body.blocks!,
    files: [],
    deleted: false,
    versions: [],
    via: 'api',
    ephemeralFor: 'someone',
  };
}

export function textOfAnswer(res: SlackHttpResult): string {
  return JSON.stringify(res.json);
}

/** Opens the App Home tab as Slack does (an `app_home_opened` event) and waits for the published view. */
export async function openHome(fx: SlackFixture, who: UserName): Promise<StoredView> {
  const user = USERS[who].id;
  const published = fx.slack.waitFor('home', (v) => v.userId === user, { after: fx.slack.workspace.cursor() });
  const res = await sendEvent(fx.url, SECRET, {
    event: { type: 'app_home_opened', user, tab: 'home', channel: fx.dm(who) },
  });
  expect(res.status).toBe(200);
  return published;
}

export function viewPayload(fx: SlackFixture, view: StoredView): SlackViewPayload {
  return apiView(view, fx.slack.workspace) as SlackViewPayload;
}

/** A click on a button in a view (the App Home, or a modal). */
export function clickInView(
  fx: SlackFixture,
  who: UserName,
  view: StoredView,
  actionId: string,
  action: Record<string, unknown> = {},
  value?: string,
): Promise<SlackHttpResult> {
  const found = findElement({ blocks: view.definition.blocks as unknown[] } as StoredMessage, actionId);
  const v = value ?? found?.value;
  return sendBlockAction(fx.url, SECRET, {
    userId: USERS[who].id,
    actionId,
    blockId: found?.blockId ?? 'actions',
    ...(v !== undefined ? { value: v } : {}),
    action: { type: found?.type ?? 'button', ...action },
    triggerId: fx.slack.issueTriggerId(USERS[who].id),
    view: viewPayload(fx, view),
  });
}

/** `who` holds app/role (an auto-approved role), active; returns the grant id. */
export async function holdActive(fx: SlackFixture, who: UserName, app: string, role: string): Promise<string> {
  const res = await fx.requestViaModal(who, app, role, {});
  // A submitted request closes the form (an empty ack); the DM says what happens next.
  expect(res.status).toBe(200);
  expect(res.body).toBe('');
  // The person closes the confirmation; the next form opens fresh.
  fx.slack.workspace.closeModals(USERS[who].id);
  await fx.settle();
  const grant = (await fx.h.store.listGrants({ holderId: USERS[who].directoryId, app, role }))[0];
  expect(grant?.status).toBe('active');
  return grant!.id;
}

export function waitEphemeral(fx: SlackFixture, who: UserName, includes: string): Promise<StoredMessage> {
  return fx.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS[who].id && m.text.includes(includes));
}

/** Ephemerals arrive where the person clicked, or as a DM when that fails: either counts. */
export function waitTold(fx: SlackFixture, who: UserName, includes: string): Promise<StoredMessage> {
  return Promise.race([
    waitEphemeral(fx, who, includes),
    fx.slack.waitFor('message', (m) => m.channel === fx.dm(who) && m.text.includes(includes)),
  ]);
}

export const hasButton = (message: { blocks: unknown[] }, actionId: string) =>
  findElement(message as StoredMessage, actionId) !== undefined;
export { ACTION };
