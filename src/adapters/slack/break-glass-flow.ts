/**
 * Break-glass in Slack: the form that takes emergency access (`/access break-glass <app> <role>`,
 * or Emergency access… in the request form), its submission (one `invokeBreakGlass` call), and the
 * review and Revoke now forms on the alert. Who may use or review it is decided by the core; the
 * forms only open for people who may, and every submission is checked again.
 */
import type { ModalView, WebClient } from '@slack/web-api';
import { breakGlassModal, breakGlassReviewModal, breakGlassRevokeModal } from '../../../blocks/break-glass.js';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { duration, groupName } from '../../../blocks/format.js';
import { ACTION, BLOCK } from '../../../blocks/ids.js';
import { infoModal } from '../../../blocks/modals.js';
import { AccessError } from '../../domain/errors.js';
import {
  breakGlassOfferFor,
  invokeBreakGlass,
  reviewBreakGlass,
  revokeBreakGlass,
} from '../../operations/break-glass.js';
import { findEntry } from '../../operations/policy-lookup.js';
import { breakGlassView } from './break-glass-view.js';
import { explain, identify, tellEphemeral, type SlackContext, type SubmissionReply } from './context.js';
import { openChecked, type Checked, type CheckedFormInput } from './open-checked.js';
import { selected, typed, type ViewPayload } from './payloads.js';

/** The form for a role, or why this person may not use it (read live: their account and groups). */
async function breakGlassForm(
  ctx: SlackContext,
  client: WebClient,
  userId: string,
  app: string,
  role: string,
): Promise<Checked> {
  try {
    const me = await identify(ctx, client, userId);
    const offer = await breakGlassOfferFor(ctx.deps, me.person, findEntry(ctx.deps, app, role));
    if (offer.kind === 'refused') return { refusal: offer.message };
    const { entry, rule, check } = offer;
    return {
      view: breakGlassModal({
        app: entry.app.app,
        role: entry.role.id,
        appName: entry.app.name,
        roleName: entry.role.name,
        choices: check.choices,
        defaultSeconds: check.defaultSeconds,
        maxSeconds: check.maxSeconds,
        reviewers: rule.reviewers.kind === 'group' ? groupName(rule.reviewers.group) : rule.reviewers.user,
        reviewWithinSeconds: rule.reviewWithinSeconds,
        privateMetadata: JSON.stringify({ a: entry.app.app, r: entry.role.id }),
      }),
    };
  } catch (error) {
    return { refusal: explain(ctx, error, 'break-glass form') };
  }
}

/** `/access break-glass <app> <role>`: the form, or an ephemeral sentence saying why not. */
export function openBreakGlassForm(
  ctx: SlackContext,
  client: WebClient,
  input: CheckedFormInput & { app: string; role: string },
): Promise<void> {
  return openChecked(
    ctx,
    client,
    { ...input, title: 'Emergency access', checking: '_Checking whether you may use emergency access…_' },
    () => breakGlassForm(ctx, client, input.userId, input.app, input.role),
  );
}

/** Emergency access… in the request form: the request form becomes the break-glass form (or says why not). */
export async function breakGlassFormView(
  ctx: SlackContext,
  client: WebClient,
  userId: string,
  app: string,
  role: string,
): Promise<ModalView> {
  const checked = await breakGlassForm(ctx, client, userId, app, role);
  return 'view' in checked ? checked.view : infoModal('Emergency access', escapeMrkdwn(checked.refusal));
}

/** The form's submission: granted (the form closes; the DM and the security channel say it), or why not. */
export async function submitBreakGlass(
  ctx: SlackContext,
  client: WebClient,
  input: { userId: string; view: ViewPayload; app: string; role: string },
): Promise<SubmissionReply> {
  const { state } = input.view;
  const seconds = Number(selected(state, BLOCK.duration, ACTION.duration));
  try {
    const result = await invokeBreakGlass(ctx.deps, {
      requester: await identify(ctx, client, input.userId),
      app: input.app,
      role: input.role,
      ...(Number.isInteger(seconds) && seconds > 0 ? { durationSeconds: seconds } : {}),
      justification: typed(state, BLOCK.justification, ACTION.justification),
      incident: typed(state, BLOCK.incident, ACTION.incident),
    });
    ctx.deps.logger.warn('break-glass access taken', {
      grantId: result.grant.id,
      holder: result.grant.holder.email,
      app: input.app,
      role: input.role,
      seconds: result.grant.durationSeconds,
    });
    return undefined;
  } catch (error) {
    const message = explain(ctx, error, 'break-glass');
    if (error instanceof AccessError) {
      if (error.code === 'justification_required')
        return { response_action: 'errors', errors: { [BLOCK.justification]: message } };
      if (error.code === 'invalid_duration')
        return { response_action: 'errors', errors: { [BLOCK.duration]: message } };
      if (error.code === 'too_long') {
        const block = typed(state, BLOCK.incident, ACTION.incident).length > 500 ? BLOCK.incident : BLOCK.justification;
        return { response_action: 'errors', errors: { [block]: message } };
      }
    }
    return { response_action: 'update', view: infoModal('Not granted', escapeMrkdwn(message)) };
  }
}

/** Review… and Revoke now… on an alert: the form as the grant stands now (who may is decided on submit). */
export async function breakGlassActionView(
  ctx: SlackContext,
  userId: string,
  grantId: string,
  which: 'review' | 'revoke',
): Promise<ModalView> {
  const view = await breakGlassView(ctx.deps, grantId, ctx.display.knownZone(userId));
  if (!view) return infoModal('Not found', 'This emergency access no longer exists.');
  const metadata = JSON.stringify({ g: grantId });
  return which === 'review' ? breakGlassReviewModal(view, metadata) : breakGlassRevokeModal(view, metadata);
}

export async function submitBreakGlassReview(
  ctx: SlackContext,
  client: WebClient,
  input: { userId: string; view: ViewPayload; grantId: string },
): Promise<SubmissionReply> {
  const { state } = input.view;
  const outcome = selected(state, BLOCK.reviewOutcome, ACTION.reviewOutcome);
  if (outcome !== 'justified' && outcome !== 'not_justified') {
    return { response_action: 'errors', errors: { [BLOCK.reviewOutcome]: 'Choose Justified or Not justified.' } };
  }
  try {
    const review = await reviewBreakGlass(ctx.deps, {
      actor: await identify(ctx, client, input.userId),
      grantId: input.grantId,
      outcome,
      reason: typed(state, BLOCK.reason, ACTION.reason),
    });
    const verdict =
      review.status === 'justified' ? '✅ justified' : '⛔ not justified: the access is revoked if it was still active';
    await tellEphemeral(
      ctx,
      client,
      { user: input.userId },
      `You reviewed the emergency access: ${verdict}. The security channel's alert shows it.`,
    );
    return undefined;
  } catch (error) {
    const message = explain(ctx, error, 'break-glass review');
    if (error instanceof AccessError && (error.code === 'reason_required' || error.code === 'too_long')) {
      return { response_action: 'errors', errors: { [BLOCK.reason]: message } };
    }
    return { response_action: 'update', view: infoModal('Not recorded', escapeMrkdwn(message)) };
  }
}

export async function submitBreakGlassRevoke(
  ctx: SlackContext,
  client: WebClient,
  input: { userId: string; view: ViewPayload; grantId: string },
): Promise<SubmissionReply> {
  try {
    const grant = await revokeBreakGlass(ctx.deps, {
      actor: await identify(ctx, client, input.userId),
      grantId: input.grantId,
      reason: typed(input.view.state, BLOCK.reason, ACTION.reason),
    });
    await tellEphemeral(
      ctx,
      client,
      { user: input.userId },
      `🔒 You revoked ${grant.holder.name}'s emergency access (${duration(grant.durationSeconds)}): the bot removes it now. ${grant.holder.name} is told, with your reason. The review is still owed.`,
    );
    return undefined;
  } catch (error) {
    const message = explain(ctx, error, 'break-glass revoke');
    if (error instanceof AccessError && (error.code === 'reason_required' || error.code === 'too_long')) {
      return { response_action: 'errors', errors: { [BLOCK.reason]: message } };
    }
    return { response_action: 'update', view: infoModal('Not revoked', escapeMrkdwn(message)) };
  }
}
