/**
 * The admins' forms, `/access revoke` and `/access export` (also the App Home's Admin buttons).
 * Admin membership is read first, within a budget (a trigger id is good for 3 s): a non-admin's
 * command gets an ephemeral refusal and no form. If the directory is slow, the form opens at once
 * and is filled in (or replaced by the refusal) when it answers. Membership is read live again
 * when the form is submitted: someone removed from the admin group in between is refused with an
 * inline error. A submitted form closes; the DM says what happened.
 */
import type { ModalView, WebClient } from '@slack/web-api';
import { exportModal, REVOKE_MORE_VALUE, revokeModal } from '../../../blocks/admin-modals.js';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { ACTION, BLOCK } from '../../../blocks/ids.js';
import { infoModal } from '../../../blocks/modals.js';
import type { RevokeFormModel } from '../../../blocks/view-models.js';
import { AccessError } from '../../domain/errors.js';
import { authorizeExport } from '../../operations/exports/export-evidence.js';
import {
  ExportFilterError,
  parseExportFilters,
  parseExportKind,
  type ExportFilterField,
} from '../../operations/exports/export-filters.js';
import { assertAdmin, revokeGrantAsAdmin } from '../../operations/revoke-grant.js';
import { groupName } from '../../../blocks/format.js';
import { explain, identify, tellEphemeral, type SlackContext, type SubmissionReply } from './context.js';
import { ExportPeriodError, exportPeriod, isPeriodPreset } from './export-period.js';
import { exportToDm } from './export-upload.js';
import { grantLine } from './overview.js';
import { openChecked, updateView, type Checked, type CheckedFormInput } from './open-checked.js';
import { lookUpSlackUser } from './people.js';
import { pickedDate, pickedUser, selected, typed, type ViewPayload } from './payloads.js';
import { appChoices } from './request-form.js';

type Reply = SubmissionReply;

export type AdminFormInput = CheckedFormInput;

/** The form for an admin, or the refusal for anyone else (admin membership read live). */
function openAdminForm(
  ctx: SlackContext,
  client: WebClient,
  input: AdminFormInput & { title: string },
  form: () => ModalView,
): Promise<void> {
  return openChecked(ctx, client, { ...input, checking: '_Checking that you are an admin…_' }, () =>
    identify(ctx, client, input.userId)
      .then((acting) => assertAdmin(ctx.deps, acting))
      .then(
        (): Checked => ({ view: form() }),
        (error: unknown): Checked => ({ refusal: explain(ctx, error, input.title) }),
      ),
  );
}

// ---- revoke ------------------------------------------------------------------------------------

export function openRevokeForm(ctx: SlackContext, client: WebClient, input: AdminFormInput): Promise<void> {
  return openAdminForm(ctx, client, { ...input, title: 'Revoke access' }, () =>
    revokeModal({ personSlackId: null, personName: null, grants: null, timezone: ctx.display.knownZone(input.userId) }),
  );
}

/** A person was picked: their open grants become the grant choice. Admins only (it lists someone's access). */
export async function refreshRevokeForm(
  ctx: SlackContext,
  client: WebClient,
  input: { adminSlackId: string; view: ViewPayload; personSlackId: string | undefined },
): Promise<void> {
  const tz = ctx.display.knownZone(input.adminSlackId);
  let model: RevokeFormModel;
  try {
    await assertAdmin(ctx.deps, await identify(ctx, client, input.adminSlackId));
    if (!input.personSlackId) {
      model = { personSlackId: null, personName: null, grants: null, timezone: tz };
    } else {
      const found = await lookUpSlackUser(ctx, client, input.personSlackId);
      const holderId = found.person?.id ?? found.boundTo;
      const grants = holderId
        ? (
            await ctx.deps.store.listGrants({ holderId, status: ['active', 'provisioning', 'provisioning_failed'] })
          ).map((g) => grantLine(ctx.deps, g))
        : [];
      model = {
        personSlackId: input.personSlackId,
        personName: found.person?.name ?? found.email,
        grants,
        timezone: tz,
        ...(holderId
          ? {}
          : {
              note: `${found.email ?? 'This Slack user'} is not in the directory, so they hold no access through the bot.`,
            }),
      };
    }
  } catch (error) {
    await updateView(
      client,
      input.view.id,
      input.view.hash,
      infoModal('Not allowed', escapeMrkdwn(explain(ctx, error, 'revoke form'))),
    );
    return;
  }
  await updateView(client, input.view.id, input.view.hash, revokeModal(model));
}

export async function submitRevoke(
  ctx: SlackContext,
  client: WebClient,
  input: { adminSlackId: string; view: ViewPayload; hasGrantInput: boolean },
): Promise<Reply> {
  const { state } = input.view;
  const grantId = selected(state, BLOCK.revokeGrant, ACTION.revokeGrant);
  const grantBlock = input.hasGrantInput ? BLOCK.revokeGrant : BLOCK.revokePerson;
  if (!grantId)
    return {
      response_action: 'errors',
      errors: {
        [grantBlock]: input.hasGrantInput ? 'Choose the access to revoke.' : 'Pick a person who holds access.',
      },
    };
  if (grantId === REVOKE_MORE_VALUE) {
    const text =
      'That slot stands for the grants the list cannot show. Revoke listed ones first, ' +
      'or find the others with `access-bot grants list --user <email>`.';
    return { response_action: 'errors', errors: { [grantBlock]: text } };
  }
  try {
    const grant = await revokeGrantAsAdmin(ctx.deps, {
      actor: await identify(ctx, client, input.adminSlackId),
      grantId,
      reason: typed(state, BLOCK.revokeReason, ACTION.revokeReason),
    });
    const line = grantLine(ctx.deps, grant);
    const how =
      line.removal.kind === 'manual'
        ? `someone from ${groupName(line.removal.assigneeGroup)} is asked to remove it by hand`
        : 'the bot removes it now';
    // The form closes; the admin's DM says what was done (a modal that must be closed again adds nothing).
    await tellEphemeral(
      ctx,
      client,
      { user: input.adminSlackId },
      `🔒 You revoked ${grant.holder.name}'s ${line.appName} ${line.roleName} access: ${how}. ${grant.holder.name} is told, with your reason.`,
    );
    return undefined;
  } catch (error) {
    const message = explain(ctx, error, 'revoke');
    if (error instanceof AccessError) {
      if (error.code === 'reason_required')
        return { response_action: 'errors', errors: { [BLOCK.revokeReason]: message } };
      if (['not_admin', 'not_found', 'stale_decision'].includes(error.code))
        return { response_action: 'errors', errors: { [grantBlock]: message } };
    }
    return { response_action: 'update', view: infoModal('Not revoked', escapeMrkdwn(message)) };
  }
}

// ---- export ------------------------------------------------------------------------------------

export function openExportForm(ctx: SlackContext, client: WebClient, input: AdminFormInput): Promise<void> {
  return openAdminForm(ctx, client, { ...input, title: 'Export evidence' }, () =>
    exportModal({ apps: appChoices(ctx.deps), defaultPeriod: 'last_30_days', timezone: ctx.deps.settings.timezone }),
  );
}

const FILTER_BLOCK: Record<ExportFilterField, string> = {
  kind: BLOCK.exportKind,
  from: BLOCK.exportFrom,
  to: BLOCK.exportTo,
  app: BLOCK.exportApp,
  role: BLOCK.exportRole,
  user: BLOCK.exportPerson,
  // The form has no campaign field: a period picks the campaigns started in it.
  campaign: BLOCK.exportKind,
};

/**
 * Validates the form and the admin (inline errors), then answers at once and builds and uploads
 * the file after the ack (`afterAck`), since a large export takes longer than Slack waits.
 */
export async function submitExport(
  ctx: SlackContext,
  client: WebClient,
  input: { adminSlackId: string; view: ViewPayload },
): Promise<{ reply: Reply; afterAck?: () => Promise<void> }> {
  const { state } = input.view;
  try {
    const kind = parseExportKind(selected(state, BLOCK.exportKind, ACTION.exportKind));
    const preset = selected(state, BLOCK.exportPeriod, ACTION.exportPeriod) ?? 'last_30_days';
    if (!isPeriodPreset(preset))
      return { reply: { response_action: 'errors', errors: { [BLOCK.exportPeriod]: 'Choose a period.' } } };
    const period = exportPeriod(preset, ctx.deps.clock.now(), ctx.deps.settings.timezone, {
      from: pickedDate(state, BLOCK.exportFrom, ACTION.exportFrom),
      to: pickedDate(state, BLOCK.exportTo, ACTION.exportTo),
    });
    const app = selected(state, BLOCK.exportApp, ACTION.exportApp);
    const role = typed(state, BLOCK.exportRole, ACTION.exportRole).trim();
    const personSlackId = pickedUser(state, BLOCK.exportPerson, ACTION.exportPerson);
    let user: string | null = null;
    if (personSlackId) {
      // Read-only: picking someone must not bind their identity.
      const found = await lookUpSlackUser(ctx, client, personSlackId);
      user = found.boundTo ?? found.person?.id ?? found.email;
      if (!user)
        return {
          reply: {
            response_action: 'errors',
            errors: { [BLOCK.exportPerson]: 'This Slack user has no email the directory knows.' },
          },
        };
    }
    const filters = parseExportFilters(kind, {
      from: period.from,
      to: period.to,
      app: app && app !== '-' ? app : null,
      role: role || null,
      user,
    });
    const admin = await identify(ctx, client, input.adminSlackId);
    // Checked now, so a refusal is shown on the form; the export checks it once more when it runs.
    await authorizeExport(ctx.deps, admin);
    // The form closes; the CSV arrives in the admin's DM with its SHA-256 and the audit log head.
    return {
      reply: undefined,
      afterAck: () =>
        exportToDm(ctx, client, { admin, slackUserId: input.adminSlackId, kind, filters, periodLabel: period.label }),
    };
  } catch (error) {
    if (error instanceof ExportFilterError)
      return {
        reply: {
          response_action: 'errors',
          errors: { [FILTER_BLOCK[error.field]]: error.message.replaceAll('--', '') },
        },
      };
    if (error instanceof ExportPeriodError)
      return { reply: { response_action: 'errors', errors: { [FILTER_BLOCK[error.field]]: error.message } } };
    const message = explain(ctx, error, 'export');
    if (error instanceof AccessError && error.code === 'not_admin')
      return { reply: { response_action: 'errors', errors: { [BLOCK.exportKind]: message } } };
    return { reply: { response_action: 'update', view: infoModal('Not exported', escapeMrkdwn(message)) } };
  }
}
