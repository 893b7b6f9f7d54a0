/**
 * The request modal's life: opened at once with the trigger id (before any slow look-up, since a
 * trigger id is good for 3 s), then updated with what the person may request; app and role
 * changes update it again; the submission is one `submitRequest` call whose outcome becomes an
 * inline error, the extension offer, a pointer to the pending request, or a confirmation.
 */
import type { ModalView, WebClient } from '@slack/web-api';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { duration, slackDate } from '../../../blocks/format.js';
import { BLOCK } from '../../../blocks/ids.js';
import { extensionOfferModal, infoModal, pendingPointerModal, requestModal } from '../../../blocks/modals.js';
import { AccessError } from '../../domain/errors.js';
import type { Grant } from '../../domain/records.js';
import type { ActingPerson } from '../../operations/acting-person.js';
import { extensionOffer } from '../../operations/extend-grant.js';
import type { SubmitResult } from '../../operations/submit-request.js';
import { explain, identify, openModal, type SlackContext } from './context.js';
import { platformError } from './slack-errors.js';
import { requestCard } from './request-card.js';
import { requestFormModel, type FormState } from './request-form.js';

export async function openRequestModal(ctx: SlackContext, client: WebClient, input: { triggerId: string; userId: string; channel?: string } & FormState): Promise<void> {
  const initial = requestModal(await requestFormModel(ctx.deps, null, { app: input.app }));
  const opened = await openModal(ctx, client, { triggerId: input.triggerId, view: initial, where: { user: input.userId, ...(input.channel ? { channel: input.channel } : {}) } });
  if (!input.app || !opened) return;
  await refreshRequestModal(ctx, client, { viewId: opened.id, ...(opened.hash ? { hash: opened.hash } : {}), userId: input.userId, state: input });
}

/** Re-renders the modal for the person and the current app/role choice. */
export async function refreshRequestModal(ctx: SlackContext, client: WebClient, input: { viewId: string; hash?: string; userId: string; state: FormState }): Promise<void> {
  let view: ModalView;
  try {
    const acting = await identify(ctx, client, input.userId);
    view = (input.state.app && input.state.role && alreadyAsked(ctx, acting, input.state.app, input.state.role)) || requestModal(await requestFormModel(ctx.deps, acting.person, input.state));
  } catch (error) {
    view = infoModal('Request access', escapeMrkdwn(explain(ctx, error, 'request modal')));
  }
  try {
    await client.views.update({ view_id: input.viewId, ...(input.hash ? { hash: input.hash } : {}), view });
  } catch (error) {
    // A newer update (the person picked again) won the race: that one shows the right thing.
    if (platformError(error) === 'hash_conflict') return;
    throw error;
  }
}

/** The extension offer for a held role, or a pointer to a pending request; undefined when neither. */
function alreadyAsked(ctx: SlackContext, acting: ActingPerson, app: string, role: string): ModalView | undefined {
  const held = ctx.deps.store.findOpenGrant(acting.person.id, app, role);
  if (held) return offerView(ctx, held);
  const pending = ctx.deps.store.findPendingRequest(acting.person.id, app, role);
  const card = pending ? requestCard(ctx.deps, pending) : undefined;
  return card ? pendingPointerModal(card) : undefined;
}

export function offerView(ctx: SlackContext, grant: Grant): ModalView {
  const offer = extensionOffer(ctx.deps, grant);
  const entry = ctx.deps.catalog.find(grant.app, grant.role);
  return extensionOfferModal({
    grantId: grant.id,
    appName: entry?.app.name ?? grant.app,
    roleName: entry?.role.name ?? grant.role,
    expiresAt: offer.expiresAt,
    maxAddSeconds: offer.maxAddSeconds,
    choices: offer.choices,
    approval: offer.approval,
    justificationRequired: entry?.role.justification === 'required',
    refusal: offer.refusal,
    timezone: ctx.deps.settings.timezone,
    privateMetadata: JSON.stringify({ g: grant.id }),
  });
}

/** What a view_submission acks with: inline errors, a replacement view, or nothing (close). */
export type SubmissionReply =
  | { response_action: 'errors'; errors: Record<string, string> }
  | { response_action: 'update'; view: ModalView }
  | undefined;

/** Maps the core's refusal of a submission to the input it is about. */
export function submissionError(ctx: SlackContext, error: unknown, blocks: { duration: string; role?: string }, where: string): SubmissionReply {
  if (error instanceof AccessError) {
    switch (error.code) {
      case 'justification_required':
        return { response_action: 'errors', errors: { [BLOCK.justification]: error.message } };
      case 'invalid_duration':
      case 'extension_exceeds_limit':
        return { response_action: 'errors', errors: { [blocks.duration]: error.message } };
      case 'not_eligible':
      case 'unknown_role':
      case 'unsatisfiable_chain':
        if (blocks.role) return { response_action: 'errors', errors: { [blocks.role]: error.message } };
        break;
      default:
        break;
    }
  }
  return { response_action: 'update', view: infoModal('Not submitted', escapeMrkdwn(explain(ctx, error, where))) };
}

export function submittedReply(ctx: SlackContext, result: SubmitResult): SubmissionReply {
  switch (result.kind) {
    case 'already_pending': {
      const card = requestCard(ctx.deps, result.request);
      return card ? { response_action: 'update', view: pendingPointerModal(card) } : undefined;
    }
    case 'extension_offer':
      return { response_action: 'update', view: offerView(ctx, result.offer.grant) };
    case 'submitted': {
      const r = result.request;
      const what = `*${escapeMrkdwn(result.evaluation.appName)} ${escapeMrkdwn(result.evaluation.roleName)}* for ${duration(r.requestedSeconds)}`;
      const text = r.status === 'approved'
        ? `✅ ${what} was approved automatically. You will get a DM when it is active.`
        : `📨 You asked for ${what}. It needs ${r.stepCount} approval step${r.stepCount === 1 ? '' : 's'}; your DM with the bot shows each one. Pending requests expire ${slackDate(r.approvalDeadline, ctx.deps.settings.timezone)}.`;
      return { response_action: 'update', view: infoModal('Request sent', text) };
    }
  }
}
