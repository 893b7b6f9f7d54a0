/**
 * Opening a form that needs a check first (an admin's membership, who may use emergency access):
 * the check runs within a budget (a trigger id is good for 3 s). Passed, the form opens; refused,
 * the person reads why (an ephemeral reply to a command, or a small modal after a button). If the
 * directory is slow, a "checking" modal opens at once and becomes the form or the refusal.
 */
import type { ModalView, WebClient } from '@slack/web-api';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { infoModal } from '../../../blocks/modals.js';
import { openModal, type SlackContext } from './context.js';
import { platformError } from './slack-errors.js';

/** How long opening waits for the check before it opens the modal anyway (the trigger lasts 3 s). */
const OPEN_BUDGET_MS = 1200;

export interface CheckedFormInput {
  triggerId: string;
  userId: string;
  /** Says a refusal as the command's ephemeral reply; without it (a button), a small modal says it. */
  refuse?: (text: string) => Promise<void>;
  /** Where the click or command came from: a click that expired is answered there. */
  channel?: string;
}

/** The check's answer: the form to open, or why not (plain text). */
export type Checked = { view: ModalView } | { refusal: string };

export async function openChecked(
  ctx: SlackContext,
  client: WebClient,
  input: CheckedFormInput & { title: string; checking: string },
  check: () => Promise<Checked>,
): Promise<void> {
  const where = { user: input.userId, ...(input.channel ? { channel: input.channel } : {}) };
  const answer = check();
  let timer: NodeJS.Timeout | undefined;
  const early = await Promise.race([
    answer,
    new Promise<'slow'>((resolve) => {
      timer = setTimeout(() => resolve('slow'), OPEN_BUDGET_MS);
    }),
  ]);
  clearTimeout(timer);
  const viewOf = (checked: Checked) =>
    'view' in checked ? checked.view : infoModal('Not allowed', escapeMrkdwn(checked.refusal));
  if (early !== 'slow') {
    if ('refusal' in early && input.refuse) return input.refuse(early.refusal);
    await openModal(ctx, client, { triggerId: input.triggerId, view: viewOf(early), where });
    return;
  }
  const opened = await openModal(ctx, client, {
    triggerId: input.triggerId,
    view: infoModal(input.title, input.checking),
    where,
  });
  const view = viewOf(await answer);
  if (opened) await updateView(client, opened.id, opened.hash, view);
}

/** views.update, where a newer update winning the race (`hash_conflict`) is fine: that one is right. */
export async function updateView(
  client: WebClient,
  viewId: string,
  hash: string | undefined,
  view: ModalView,
): Promise<void> {
  try {
    await client.views.update({ view_id: viewId, ...(hash ? { hash } : {}), view });
  } catch (error) {
    if (platformError(error) === 'hash_conflict') return;
    throw error;
  }
}
