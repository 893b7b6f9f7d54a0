/**
 * The admins' forms: revoke someone's grant (a person, then one of their grants, and a reason),
 * and export the audit evidence (which export, a period preset or custom dates, optional filters).
 * Who may submit them is decided again when they are submitted.
 */
import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/web-api';
import { escapeMrkdwn } from './escape.js';
import { plainDate } from './format.js';
import { ACTION, BLOCK, CALLBACK } from './ids.js';
import { LIMITS } from './limits.js';
import type { ExportFormModel, ExportPeriodPreset, ExportSummaryView, RevokeFormModel } from './view-models.js';
import { plain, section } from './block-parts.js';

function option(text: string, value: string, description?: string): PlainTextOption {
  return {
    text: plain(text, LIMITS.optionText),
    value: value.slice(0, LIMITS.optionValue),
    ...(description ? { description: plain(description, LIMITS.optionDescription) } : {}),
  };
}

const STATUS_WORDS: Record<string, string> = {
  provisioning: 'being set up',
  provisioning_failed: 'setting it up failed',
  revoking: 'being removed',
};

export function revokeModal(model: RevokeFormModel): ModalView {
  const blocks: KnownBlock[] = [
    section(
      "Take someone's access away now. The holder is told, with your reason; the revocation and the reason are kept in the audit log.",
    ),
    {
      type: 'input',
      block_id: BLOCK.revokePerson,
      dispatch_action: true,
      label: plain('Whose access', LIMITS.inputLabel),
      element: {
        type: 'users_select',
        action_id: ACTION.revokePerson,
        placeholder: plain('Pick a person', 150),
        ...(model.personSlackId ? { initial_user: model.personSlackId } : {}),
      },
    },
  ];
  if (model.grants === null) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Pick a person to list the access they hold.' }],
    });
  } else if (model.grants.length === 0) {
    blocks.push(
      section(
        `:information_source: ${escapeMrkdwn(model.note ?? `${model.personName ?? 'This person'} holds no access through the bot.`)}`,
      ),
    );
  } else {
    const all = model.grants.map((g) => {
      const state =
        g.status === 'active'
          ? g.expiresAt
            ? `until ${plainDate(g.expiresAt, model.timezone)}`
            : 'active'
          : (STATUS_WORDS[g.status] ?? g.status.replaceAll('_', ' '));
      // The state is in the option's own text too: not every client draws descriptions.
      return option(`${g.appName} · ${g.roleName}, ${state}`, g.grantId, state);
    });
    // A static select holds 100 options: the last slot says how many are not listed, and choosing it
    // is refused on submit with where to find them.
    const options =
      all.length > LIMITS.selectOptions
        ? [
            ...all.slice(0, LIMITS.selectOptions - 1),
            option(
              `…${all.length - LIMITS.selectOptions + 1} more not listed`,
              REVOKE_MORE_VALUE,
              'revoke these first, or use access-bot grants list',
            ),
          ]
        : all;
    blocks.push({
      type: 'input',
      block_id: BLOCK.revokeGrant,
      label: plain(`Which access of ${model.personName ?? 'theirs'}`, LIMITS.inputLabel),
      element: {
        type: 'static_select',
        action_id: ACTION.revokeGrant,
        placeholder: plain('Choose a grant', 150),
        options,
        ...(options.length === 1 ? { initial_option: options[0]! } : {}),
      },
    });
  }
  blocks.push({
    type: 'input',
    block_id: BLOCK.revokeReason,
    label: plain('Reason', LIMITS.inputLabel),
    hint: plain('Required. The holder reads it, and it is kept in the audit log.', 2000),
    element: { type: 'plain_text_input', action_id: ACTION.revokeReason, multiline: true, max_length: 1000 },
  });
  return {
    type: 'modal',
    callback_id: CALLBACK.revoke,
    title: plain('Revoke access', LIMITS.modalTitle),
    submit: plain('Revoke', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: '',
    blocks,
  };
}

const EXPORT_KIND_CHOICES: { kind: string; name: string; description: string }[] = [
  { kind: 'requests', name: 'Requests', description: 'one row per request, with every approval step' },
  { kind: 'access', name: 'Access', description: 'who held which role, current and historical' },
  { kind: 'events', name: 'Events', description: 'every audit event of the period, with its hash' },
  { kind: 'policies', name: 'Policies', description: 'every policy version and when it was in force' },
  { kind: 'reviews', name: 'Access reviews', description: 'every review item: who decided what, removals verified' },
];

const PERIOD_CHOICES: { preset: ExportPeriodPreset; name: string }[] = [
  { preset: 'last_7_days', name: 'Last 7 days' },
  { preset: 'last_30_days', name: 'Last 30 days' },
  { preset: 'this_quarter', name: 'This quarter' },
  { preset: 'last_quarter', name: 'Last quarter' },
  { preset: 'this_year', name: 'This year' },
  { preset: 'custom', name: 'Custom: the dates below' },
];

/** The value of the revoke form's "…N more not listed" slot: never a grant id. */
export const REVOKE_MORE_VALUE = 'more';

export function exportModal(model: ExportFormModel): ModalView {
  const kinds = EXPORT_KIND_CHOICES.map((k) => option(k.name, k.kind, k.description));
  const periods = PERIOD_CHOICES.map((p) => option(p.name, p.preset));
  const apps = model.apps.map((a) => option(a.name, a.app));
  // More applications than a static select holds: searched through the options listener instead.
  const appElement: InputBlock['element'] =
    apps.length > LIMITS.selectOptions
      ? {
          type: 'external_select',
          action_id: ACTION.exportApp,
          min_query_length: 0,
          placeholder: plain('Search applications', 150),
        }
      : {
          type: 'static_select',
          action_id: ACTION.exportApp,
          placeholder: plain('Any application', 150),
          options: apps.length ? apps : [option('(none)', '-')],
        };
  const optional = (block_id: string, label: string, element: InputBlock['element'], hint?: string): InputBlock => ({
    type: 'input',
    block_id,
    optional: true,
    label: plain(label, LIMITS.inputLabel),
    element,
    ...(hint ? { hint: plain(hint, 2000) } : {}),
  });
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: BLOCK.exportKind,
      label: plain('Export', LIMITS.inputLabel),
      element: { type: 'static_select', action_id: ACTION.exportKind, options: kinds, initial_option: kinds[0]! },
    },
    {
      type: 'input',
      block_id: BLOCK.exportPeriod,
      label: plain('Period', LIMITS.inputLabel),
      hint: plain(`Calendar periods are in ${model.timezone}; the file's times are UTC.`, 2000),
      element: {
        type: 'static_select',
        action_id: ACTION.exportPeriod,
        options: periods,
        initial_option: periods.find((p) => p.value === model.defaultPeriod) ?? periods[1]!,
      },
    },
    optional(
      BLOCK.exportFrom,
      'From (custom period)',
      { type: 'datepicker', action_id: ACTION.exportFrom },
      'First day included.',
    ),
    optional(
      BLOCK.exportTo,
      'To (custom period)',
      { type: 'datepicker', action_id: ACTION.exportTo },
      'Last day included; leave empty for "until now".',
    ),
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Filters (optional): leave them empty for the whole organisation.' }],
    },
    optional(BLOCK.exportApp, 'Application', appElement),
    optional(BLOCK.exportRole, 'Role id', {
      type: 'plain_text_input',
      action_id: ACTION.exportRole,
      max_length: 64,
      placeholder: plain('e.g. owner', 150),
    }),
    optional(
      BLOCK.exportPerson,
      'Person',
      { type: 'users_select', action_id: ACTION.exportPerson, placeholder: plain('Anyone', 150) },
      'Requests they made, access they held, events they caused or that are about them.',
    ),
  ];
  return {
    type: 'modal',
    callback_id: CALLBACK.export,
    title: plain('Export evidence', LIMITS.modalTitle),
    submit: plain('Export', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: '',
    blocks,
  };
}

/**
 * The text shared with the uploaded file: what it holds, and how to check it later. Hashes and the
 * command are code; the audit head is said short in the sentence and whole once, in the command.
 */
export function exportSummaryText(s: ExportSummaryView): string {
  const period = `${s.from ? plainDate(s.from, s.timezone) : 'the beginning'} to ${s.to ? plainDate(s.to, s.timezone) : 'now'}`;
  const filters = Object.entries(s.filters)
    .filter(([k]) => k !== 'from' && k !== 'to')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const count = (n: number) => n.toLocaleString('en-US');
  return [
    escapeMrkdwn(
      `Your ${s.kind} export: ${count(s.rows)} row${s.rows === 1 ? '' : 's'} (${count(s.bytes)} bytes), ${s.periodLabel}, ${period}${filters ? `; filters: ${filters}` : ''}.`,
    ),
    `SHA-256 of the file: \`${s.sha256}\``,
    `Audit log head: event ${s.auditHeadSeq}, \`${s.auditHead.slice(0, 12)}…\`. To check later that the log still holds it, run this on the bot's host:`,
    `\`\`\`access-bot audit verify --expect-head ${s.auditHead}\`\`\``,
  ].join('\n');
}
