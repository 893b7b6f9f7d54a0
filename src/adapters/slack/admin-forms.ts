/**
 * The admins' forms, `/access revoke` and `/access export` (also the App Home's Admin buttons).
 * Each opens at once with the trigger id (good for 3 s) and is then filled in, or replaced by the
 * refusal for a non-admin. Admin membership is read live from the directory again when the form is
 * submitted: someone removed from the admin group in between is refused with an inline error.
 */
import type { ModalView, WebClient } from '@slack/web-api';
import { exportModal, REVOKE_MORE_VALUE, revokeModal } from '../../../blocks/admin-modals.js';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { ACTION, BLOCK } from '../../../blocks/ids.js';
import { infoModal } from '../../../blocks/modals.js';
import type { RevokeFormModel } from '../../../blocks/view-models.js';
import { AccessError } from '../../domain/errors.js';
import { authorizeExport } from '../../operations/exports/export-evidence.js';
import { ExportFilterError, parseExportFilters, parseExportKind, type ExportFilterField } from '../../operations/exports/export-filters.js';
import { assertAdmin, revokeGrantAsAdmin } from '../../operations/revoke-grant.js';
import { explain, identify, openModal, type SlackContext } from './context.js';
import { ExportPeriodError, exportPeriod, isPeriodPreset } from './export-period.js';
import { exportToDm } from './export-upload.js';
import { grantLine } from './overview.js';
import { lookUpSlackUser } from './people.js';
import { pickedDate, pickedUser, selected, typed, type ViewPayload } from './payloads.js';
import { appChoices } from './request-form.js';
import { platformError } from './slack-errors.js';

type Reply = { response_action: 'errors'; errors: Record<string, string> } | { response_action: 'update'; view: ModalView } | undefined;

/** Opens a placeholder at once, then shows the form to an admin or the refusal to anyone else. */
async function openAdminForm(ctx: SlackContext, client: WebClient, input: { triggerId: string; userId: string; channel?: string; title: string }, form: () => ModalView): Promise<void> {
  const opened = await openModal(ctx, client, { triggerId: input.triggerId, view: infoModal(input.title, '_Checking that you are an admin…_'), where: { user: input.userId, ...(input.channel ? { channel: input.channel } : {}) } });
  const viewId = opened?.id;
  if (!viewId) return;
  let view: ModalView;
  try {
    await assertAdmin(ctx.deps, await identify(ctx, client, input.userId));
    view = form();
  } catch (error) {
    view = infoModal('Not allowed', escapeMrkdwn(explain(ctx, error, input.title)));
  }
  await updateView(client, viewId, opened.hash, view);
}

async function updateView(client: WebClient, viewId: string, hash: string | undefined, view: ModalView): Promise<void> {
  try {
    await client.views.update({ view_id: viewId, ...(hash ? { hash } : {}), view });
  } catch (error) {
    // The admin changed the form meanwhile: that newer update shows the right thing.
    if (platformError(error) === 'hash_conflict') return;
    throw error;
  }
}

// ---- revoke ------------------------------------------------------------------------------------

export function openRevokeForm(ctx: SlackContext, client: WebClient, input: { triggerId: string; userId: string; channel?: string }): Promise<void> {
  return openAdminForm(ctx, client, { ...input, title: 'Revoke access' }, () => revokeModal({ personSlackId: null, personName: null, grants: null, timezone: ctx.deps.settings.timezone }));
}

/** A person was picked: their open grants become the grant choice. Admins only (it lists someone's access). */
export async function refreshRevokeForm(ctx: SlackContext, client: WebClient, input: { adminSlackId: string; view: ViewPayload; personSlackId: string | undefined }): Promise<void> {
  const tz = ctx.deps.settings.timezone;
  let model: RevokeFormModel;
  try {
    await assertAdmin(ctx.deps, await identify(ctx, client, input.adminSlackId));
    if (!input.personSlackId) {
      model = { personSlackId: null, personName: null, grants: null, timezone: tz };
    } else {
      const found = await lookUpSlackUser(ctx, client, input.personSlackId);
      const holderId = found.person?.id ?? found.boundTo;
      const grants = holderId ? ctx.deps.store.listGrants({ holderId, status: ['active', 'provisioning', 'provisioning_failed'] }).map((g) => grantLine(ctx.deps, g)) : [];
      model = {
        personSlackId: input.personSlackId,
        personName: found.person?.name ?? found.email,
        grants,
        timezone: tz,
        ...(holderId ? {} : { note: `${found.email ?? 'This Slack user'} is not in the directory, so they hold no access through the bot.` }),
      };
    }
  } catch (error) {
    await updateView(client, input.view.id, input.view.hash, infoModal('Not allowed', escapeMrkdwn(explain(ctx, error, 'revoke form'))));
    return;
  }
  await updateView(client, input.view.id, input.view.hash, revokeModal(model));
}

export async function submitRevoke(ctx: SlackContext, client: WebClient, input: { adminSlackId: string; view: ViewPayload; hasGrantInput: boolean }): Promise<Reply> {
  const { state } = input.view;
  const grantId = selected(state, BLOCK.revokeGrant, ACTION.revokeGrant);
  const grantBlock = input.hasGrantInput ? BLOCK.revokeGrant : BLOCK.revokePerson;
  if (!grantId) return { response_action: 'errors', errors: { [grantBlock]: input.hasGrantInput ? 'Choose the access to revoke.' : 'Pick a person who holds access.' } };
  if (grantId === REVOKE_MORE_VALUE) {
    return { response_action: 'errors', errors: { [grantBlock]: 'That slot stands for the grants the list cannot show. Revoke listed ones first, or find the others with `access-bot grants list --user <email>`.' } };
  }
  try {
    const grant = await revokeGrantAsAdmin(ctx.deps, { actor: await identify(ctx, client, input.adminSlackId), grantId, reason: typed(state, BLOCK.revokeReason, ACTION.revokeReason) });
    const line = grantLine(ctx.deps, grant);
    return { response_action: 'update', view: infoModal('Revoked', `🔒 *${escapeMrkdwn(line.appName)} ${escapeMrkdwn(line.roleName)}* of ${escapeMrkdwn(grant.holder.name)} is being removed now. They are told, with your reason.`) };
  } catch (error) {
    const message = explain(ctx, error, 'revoke');
    if (error instanceof AccessError) {
      if (error.code === 'reason_required') return { response_action: 'errors', errors: { [BLOCK.revokeReason]: message } };
      if (['not_admin', 'not_found', 'stale_decision'].includes(error.code)) return { response_action: 'errors', errors: { [grantBlock]: message } };
    }
    return { response_action: 'update', view: infoModal('Not revoked', escapeMrkdwn(message)) };
  }
}

// ---- export ------------------------------------------------------------------------------------

export function openExportForm(ctx: SlackContext, client: WebClient, input: { triggerId: string; userId: string; channel?: string }): Promise<void> {
  return openAdminForm(ctx, client, { ...input, title: 'Export evidence' }, () => exportModal({ apps: appChoices(ctx.deps), defaultPeriod: 'last_30_days', timezone: ctx.deps.settings.timezone }));
}

const FILTER_BLOCK: Record<ExportFilterField, string> = {
  kind: BLOCK.exportKind,
  from: BLOCK.exportFrom,
  to: BLOCK.exportTo,
  app: BLOCK.exportApp,
  role: BLOCK.exportRole,
  user: BLOCK.exportPerson,
};

/**
 * Validates the form and the admin (inline errors), then answers at once and builds and uploads
 * the file after the ack (`afterAck`), since a large export takes longer than Slack waits.
 */
export async function submitExport(ctx: SlackContext, client: WebClient, input: { adminSlackId: string; view: ViewPayload }): Promise<{ reply: Reply; afterAck?: () => Promise<void> }> {
  const { state } = input.view;
  try {
    const kind = parseExportKind(selected(state, BLOCK.exportKind, ACTION.exportKind));
    const preset = selected(state, BLOCK.exportPeriod, ACTION.exportPeriod) ?? 'last_30_days';
    if (!isPeriodPreset(preset)) return { reply: { response_action: 'errors', errors: { [BLOCK.exportPeriod]: 'Choose a period.' } } };
    const period = exportPeriod(preset, ctx.deps.clock.now(), ctx.deps.settings.timezone, { from: pickedDate(state, BLOCK.exportFrom, ACTION.exportFrom), to: pickedDate(state, BLOCK.exportTo, ACTION.exportTo) });
    const app = selected(state, BLOCK.exportApp, ACTION.exportApp);
    const role = typed(state, BLOCK.exportRole, ACTION.exportRole).trim();
    const personSlackId = pickedUser(state, BLOCK.exportPerson, ACTION.exportPerson);
    let user: string | null = null;
    if (personSlackId) {
      // Read-only: picking someone must not bind their identity.
      const found = await lookUpSlackUser(ctx, client, personSlackId);
      user = found.boundTo ?? found.person?.id ?? found.email;
      if (!user) return { reply: { response_action: 'errors', errors: { [BLOCK.exportPerson]: 'This Slack user has no email the directory knows.' } } };
    }
    const filters = parseExportFilters(kind, { from: period.from, to: period.to, app: app && app !== '-' ? app : null, role: role || null, user });
    const admin = await identify(ctx, client, input.adminSlackId);
    // Checked now, so a refusal is shown on the form; the export checks it once more when it runs.
    await authorizeExport(ctx.deps, admin);
    return {
      reply: { response_action: 'update', view: infoModal('Export started', `📦 Building your *${kind}* export (${escapeMrkdwn(period.label)}). The CSV arrives in your DM with the bot, with its SHA-256 and the audit log head.`) },
      afterAck: () => exportToDm(ctx, client, { admin, slackUserId: input.adminSlackId, kind, filters, periodLabel: period.label }),
    };
  } catch (error) {
    if (error instanceof ExportFilterError) return { reply: { response_action: 'errors', errors: { [FILTER_BLOCK[error.field]]: error.message.replaceAll('--', '') } } };
    if (error instanceof ExportPeriodError) return { reply: { response_action: 'errors', errors: { [FILTER_BLOCK[error.field]]: error.message } } };
    const message = explain(ctx, error, 'export');
    if (error instanceof AccessError && error.code === 'not_admin') return { reply: { response_action: 'errors', errors: { [BLOCK.exportKind]: message } } };
    return { reply: { response_action: 'update', view: infoModal('Not exported', escapeMrkdwn(message)) } };
  }
}
