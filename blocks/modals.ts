/**
 * The modals: the request form (application, role, duration, justification), the extension offer
 * that replaces it when the role is already held, the Deny reason form, and a plain notice.
 */
import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/web-api';
import { outcomeLine } from './approval-message.js';
import { escapeMrkdwn } from './escape.js';
import {
  duration,
  effectiveSeconds,
  grantedDuration,
  plainDate,
  shortVersion,
  slackDate,
  stepTitle,
} from './format.js';
import { cancelButton } from './grant-buttons.js';
import { ACTION, BLOCK, CALLBACK, durationBlockId, encodeRoleRef } from './ids.js';
import { LIMITS, truncateMrkdwn } from './limits.js';
import type { ExtensionOfferModel, RequestCard, RequestModalModel } from './view-models.js';
import { plain, section, title } from './block-parts.js';

function option(text: string, value: string, description?: string): PlainTextOption {
  const o: PlainTextOption = { text: plain(text, LIMITS.optionText), value: value.slice(0, LIMITS.optionValue) };
  if (description) o.description = plain(description, LIMITS.optionDescription);
  return o;
}

function metadata(text: string): string {
  // Ids only; a metadata that would not fit is a bug, not something to cut silently.
  if (text.length > LIMITS.privateMetadata) throw new Error('private_metadata over 3000 characters');
  return text;
}

/**
 * Options capped at Slack's 100 (static select, SLK-TYPES). Lists that can grow past it (apps,
 * roles) switch to an `external_select` with search instead; what is left here is bounded.
 */
function capOptions(options: PlainTextOption[]): PlainTextOption[] {
  return options.slice(0, LIMITS.selectOptions);
}

export function requestModal(model: RequestModalModel): ModalView {
  const blocks: KnownBlock[] = [];
  const appElement = model.appsExternal
    ? {
        type: 'external_select' as const,
        action_id: ACTION.app,
        min_query_length: 0,
        placeholder: plain('Search applications', 150),
        ...(model.selectedApp ? { initial_option: option(model.selectedApp.name, model.selectedApp.app) } : {}),
      }
    : {
        type: 'static_select' as const,
        action_id: ACTION.app,
        placeholder: plain('Choose an application', 150),
        options: capOptions(model.apps.map((a) => option(a.name, a.app))),
        ...(model.selectedApp ? { initial_option: option(model.selectedApp.name, model.selectedApp.app) } : {}),
      };
  const appBlock: InputBlock = {
    type: 'input',
    block_id: BLOCK.app,
    dispatch_action: true,
    label: plain('Application', LIMITS.inputLabel),
    element: appElement,
    // The list holds only what this person may request; the rest is one command away, with the reason.
    hint: plain(
      'Only what you may request is listed. /access explain <app> <role> says who may request something else.',
      2000,
    ),
  };
  blocks.push(appBlock);

  if (model.selectedApp) {
    if (model.roles === null) {
      blocks.push(section('_Checking which roles you may request…_', BLOCK.role));
    } else if (model.roles.length === 0) {
      blocks.push(
        section(
          `:no_entry: ${escapeMrkdwn(model.noRolesReason ?? `You may not request any ${model.selectedApp.name} role.`)}`,
          BLOCK.role,
        ),
      );
    } else {
      const roleOptions = model.roles.map((r) => option(r.name, r.role, r.summary));
      const selected = model.selectedRole ? roleOptions.find((o) => o.value === model.selectedRole!.role) : undefined;
      // More roles than a static select holds: searched through the options listener instead.
      const element =
        roleOptions.length > LIMITS.selectOptions
          ? {
              type: 'external_select' as const,
              action_id: ACTION.role,
              min_query_length: 0,
              placeholder: plain('Search roles', 150),
              ...(selected ? { initial_option: selected } : {}),
            }
          : {
              type: 'static_select' as const,
              action_id: ACTION.role,
              placeholder: plain('Choose a role', 150),
              options: roleOptions,
              ...(selected ? { initial_option: selected } : {}),
            };
      blocks.push({
        type: 'input',
        block_id: BLOCK.role,
        dispatch_action: true,
        label: plain('Role', LIMITS.inputLabel),
        element,
      });
    }
  }

  const role = model.selectedRole;
  if (role && model.pending) {
    blocks.push(...pendingBlocks(model.pending));
  }
  if (role?.breakGlassMaxSeconds !== undefined)
    blocks.push(...emergencyChoice(role.app, role.role, role.breakGlassMaxSeconds));
  if (role && !model.pending) {
    blocks.push(section(escapeMrkdwn(role.approvalSummary), BLOCK.policySummary));
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(
            `Policy \`${escapeMrkdwn(role.policyName)}\` · version \`${shortVersion(role.policyVersion)}\``,
            LIMITS.contextText,
          ),
        },
      ],
    });
    // Shortest first, the default marked where it stands and chosen.
    const ordered = [...role.durationChoices].sort((a, b) => a - b);
    const choices = capOptions(
      ordered.map((s) => option(s === role.defaultSeconds ? `${duration(s)} (default)` : duration(s), String(s))),
    );
    const initial = choices.find((o) => o.value === String(role.defaultSeconds));
    blocks.push({
      type: 'input',
      block_id: durationBlockId(role.app, role.role),
      label: plain('Duration', LIMITS.inputLabel),
      hint: plain(`At most ${duration(role.maxSeconds)}.`, 2000),
      element: {
        type: 'static_select',
        action_id: ACTION.duration,
        options: choices,
        ...(initial ? { initial_option: initial } : {}),
      },
    });
    blocks.push({
      type: 'input',
      block_id: BLOCK.justification,
      optional: !role.justificationRequired,
      label: plain('Justification', LIMITS.inputLabel),
      hint: plain(
        role.justificationRequired
          ? 'Required by this policy; approvers and the audit log see it.'
          : 'Approvers and the audit log see it.',
        2000,
      ),
      element: {
        type: 'plain_text_input',
        action_id: ACTION.justification,
        multiline: true,
        max_length: LIMITS.plainTextInput,
        placeholder: plain('What do you need it for? A ticket number helps.', 150),
        ...(model.justification ? { initial_value: model.justification.slice(0, LIMITS.plainTextInput) } : {}),
      },
    });
  }

  return {
    type: 'modal',
    callback_id: CALLBACK.request,
    title: title('Request access'),
    // Slack requires a submit button on any modal with an input; without a role, submitting says what is missing.
    submit: plain('Request', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: metadata(model.privateMetadata),
    blocks: blocks.slice(0, LIMITS.viewBlocks),
  };
}

/** "Emergency access…": the break-glass form for the role, offered only to people who may use it. */
function emergencyChoice(app: string, role: string, maxSeconds: number): KnownBlock[] {
  return [
    {
      type: 'section',
      block_id: BLOCK.breakGlassActions,
      text: {
        type: 'mrkdwn',
        text: `🚨 An incident that cannot wait? *Emergency access* is granted now, for up to ${duration(maxSeconds)}, and reviewed afterwards.`,
      },
      accessory: {
        type: 'button',
        action_id: ACTION.openBreakGlass,
        text: plain('Emergency access…', LIMITS.buttonText),
        value: encodeRoleRef(app, role),
      },
    },
  ];
}

export function extensionOfferModal(model: ExtensionOfferModel): ModalView {
  const what = `${escapeMrkdwn(model.appName)} ${escapeMrkdwn(model.roleName)}`;
  const holding =
    model.held && model.expiresAt ? `You hold *${what}* until ${slackDate(model.expiresAt, model.timezone)}.` : '';
  if (model.refusal || model.maxAddSeconds <= 0) {
    const why = model.refusal ? escapeMrkdwn(model.refusal) : 'It cannot be extended now.';
    return infoModal('Cannot extend', [holding, why].filter(Boolean).join(' '), model.privateMetadata);
  }
  const approval =
    model.approval === 'auto'
      ? 'The extension is applied at once.'
      : 'The extension goes through the same approvals as a new request.';
  // Each choice says the end it leads to; the longest is said as its end, not as "89 days 3 hours".
  const base = Date.parse(model.expiresAt ?? model.now);
  const endOf = (s: number) => plainDate(new Date(base + s * 1000).toISOString(), model.timezone);
  const latest = endOf(model.maxAddSeconds);
  const label = (s: number) =>
    s === model.maxAddSeconds ? `As long as allowed: until ${latest}` : `${duration(s)}: until ${endOf(s)}`;
  const options = capOptions(model.choices.map((s) => option(label(s), String(s))));
  const blocks: KnownBlock[] = [
    section(`${holding} You can extend it until ${escapeMrkdwn(latest)} at the latest.`),
    { type: 'context', elements: [{ type: 'mrkdwn', text: approval }] },
    {
      type: 'input',
      block_id: BLOCK.extendBy,
      label: plain('Extend by', LIMITS.inputLabel),
      element: { type: 'static_select', action_id: ACTION.extendBy, options, initial_option: options[0]! },
    },
  ];
  if (model.approval !== 'auto') {
    blocks.push({
      type: 'input',
      block_id: BLOCK.justification,
      optional: !model.justificationRequired,
      label: plain('Justification', LIMITS.inputLabel),
      element: {
        type: 'plain_text_input',
        action_id: ACTION.justification,
        multiline: true,
        max_length: LIMITS.plainTextInput,
      },
    });
  }
  return {
    type: 'modal',
    callback_id: CALLBACK.extend,
    title: title('Extend access'),
    submit: plain('Extend', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: metadata(model.privateMetadata),
    blocks,
  };
}

/** A modal that only informs: a pointer to a pending request, a refusal, a problem. */
export function infoModal(heading: string, mrkdwn: string, privateMetadata = ''): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.info,
    title: title(heading),
    close: plain('Close', LIMITS.modalButton),
    private_metadata: metadata(privateMetadata),
    blocks: [section(mrkdwn)],
  };
}

/** The pending request for a role, with Cancel: in the request form (another role can still be picked) or alone. */
function pendingBlocks(card: RequestCard): KnownBlock[] {
  const step = card.steps.find((s) => s.index === card.currentStep);
  const lines = [
    `You already asked for *${escapeMrkdwn(card.appName)} ${escapeMrkdwn(card.roleName)}* for ${grantedDuration(card)}, ${slackDate(card.createdAt, card.timezone)}.`,
  ];
  if (step)
    lines.push(`It is waiting for ${stepTitle(step, card.steps.length, 'requester').replace(/^Step/, 'step')}.`);
  return [
    section(lines.join('\n')),
    {
      type: 'actions',
      block_id: BLOCK.requestActions,
      elements: [cancelButton(card.id, `${card.appName} ${card.roleName}`, 'Cancel that request')],
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Request \`${card.id}\`` }] },
  ];
}

/** A second request while one is pending points to the first, with Cancel. */
export function pendingPointerModal(card: RequestCard): ModalView {
  return { ...infoModal('Already requested', ''), blocks: pendingBlocks(card) };
}

/**
 * Approve for less: the picked duration, named, before it is decided (Slack's confirm dialog on a
 * select cannot say what was picked). The decision is the submission.
 */
export function approveShorterModal(
  card: RequestCard,
  stepIndex: number,
  seconds: number,
  privateMetadata: string,
): ModalView {
  const step = card.steps.find((s) => s.index === stepIndex);
  if (!step || card.status !== 'pending_approval' || card.currentStep !== stepIndex) {
    return infoModal(
      'Already decided',
      step
        ? `Nothing left to decide here. ${outcomeLine(card, step)}`
        : `This request is ${card.status.replaceAll('_', ' ')}.`,
    );
  }
  const asked = effectiveSeconds(card);
  return {
    type: 'modal',
    callback_id: CALLBACK.approveShorter,
    title: title('Approve for less'),
    submit: plain(`Approve ${duration(seconds)}`, LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: metadata(privateMetadata),
    blocks: [
      section(
        `${escapeMrkdwn(card.requester.name)} asked for *${escapeMrkdwn(card.appName)} ${escapeMrkdwn(card.roleName)}* for *${duration(asked)}*. Approve only *${duration(seconds)}*?`,
      ),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: truncateMrkdwn(
              `${stepTitle(step, card.steps.length)} · ${escapeMrkdwn(card.requester.name)} is told at once that you shortened it.`,
              LIMITS.contextText,
            ),
          },
        ],
      },
    ],
  };
}

/** The form a Deny click opens: the reason the requester will read. */
export function denyReasonModal(card: RequestCard, stepIndex: number, privateMetadata: string): ModalView {
  const step = card.steps.find((s) => s.index === stepIndex);
  if (!step || card.status !== 'pending_approval' || card.currentStep !== stepIndex) {
    // Showing the form for a decided step would invite a click that can only be refused.
    return infoModal(
      'Already decided',
      step
        ? `Nothing left to decide here. ${outcomeLine(card, step)}`
        : `This request is ${card.status.replaceAll('_', ' ')}.`,
    );
  }
  const header = `Deny *${escapeMrkdwn(card.appName)} ${escapeMrkdwn(card.roleName)}* for ${escapeMrkdwn(card.requester.name)}${step ? ` (${stepTitle(step, card.steps.length)})` : ''}?`;
  return {
    type: 'modal',
    callback_id: CALLBACK.denyReason,
    title: title('Deny request'),
    submit: plain('Deny', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: metadata(privateMetadata),
    blocks: [
      section(header),
      {
        type: 'input',
        block_id: BLOCK.reason,
        label: plain('Reason', LIMITS.inputLabel),
        hint: plain('The requester sees this, and it is kept in the audit log.', 2000),
        element: {
          type: 'plain_text_input',
          action_id: ACTION.reason,
          multiline: true,
          max_length: LIMITS.plainTextInput,
        },
      },
    ],
  };
}
