/**
 * What the sandbox page says a person did, turned into what Slack would report: `view.state.values`
 * and the `actions[0]` of a block_actions payload. Pure: the page says what a person did ("typed
 * this into block X", "picked option V"); the element definitions come from the message or view
 * the stand-in holds, and everything Slack would add (option texts, element types, `null` for an
 * untouched input) is taken from there, never from the page. The requests themselves are built
 * and signed in `slack-requests.ts`.
 */

// ---- what the page sends ----------------------------------------------------------------------------

/**
 * One control's value as the page reports it. The server decides what it means from the element
 * definition: a `selected` value must be one of the element's options (or of the options the bot
 * suggested for an external select), else it counts as nothing selected.
 */
export interface PageInput {
  /** Text inputs (plain_text, email, url, number). */
  value?: string | null;
  /** Single selects and radio buttons: the option value. */
  selected?: string | null;
  /** Checkboxes and multi selects: option values. */
  selectedValues?: string[];
  /** Datepicker: YYYY-MM-DD. */
  date?: string | null;
  /** users_select / conversations_select / channels_select: an id. */
  id?: string | null;
}

/** `form[block_id][action_id]`: what the page's controls hold. */
export type PageForm = Record<string, Record<string, PageInput>>;

/** An option as Block Kit defines it. */
export interface BlockOption {
  text: { type: string; text: string; emoji?: boolean };
  value: string;
  description?: unknown;
  url?: string;
}

/** Options an external select was given by the bot, by `block_id` then `action_id`. */
export type SuggestedOptions = (blockId: string, actionId: string) => BlockOption[] | undefined;

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

// ---- finding elements ------------------------------------------------------------------------------

/** An interactive element with the block it sits in. */
export interface LocatedElement {
  block: Json;
  blockId: string;
  element: Json;
}

/** Every interactive element of a list of blocks: input elements, actions elements, accessories. */
export function interactiveElements(blocks: unknown): LocatedElement[] {
  if (!Array.isArray(blocks)) return [];
  const found: LocatedElement[] = [];
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    const blockId = str(block.block_id) ?? '';
    const candidates: unknown[] = [];
    if (block.type === 'input') candidates.push(block.element);
    if (block.type === 'actions' && Array.isArray(block.elements)) candidates.push(...block.elements);
    if (block.type === 'section') candidates.push(block.accessory);
    for (const element of candidates) {
      if (isRecord(element) && typeof element.action_id === 'string') found.push({ block, blockId, element });
    }
  }
  return found;
}

export function findElement(blocks: unknown, blockId: string, actionId: string): LocatedElement | undefined {
  return interactiveElements(blocks).find((e) => e.blockId === blockId && e.element.action_id === actionId);
}

/** Options of a static select, radio group, checkbox group or overflow menu, option groups flattened. */
export function elementOptions(element: Json): BlockOption[] {
  const options: unknown[] = [];
  if (Array.isArray(element.options)) options.push(...element.options);
  if (Array.isArray(element.option_groups)) {
    for (const group of element.option_groups)
      if (isRecord(group) && Array.isArray(group.options)) options.push(...group.options);
  }
  return options.filter(isOption);
}

function isOption(value: unknown): value is BlockOption {
  return (
    isRecord(value) && typeof value.value === 'string' && isRecord(value.text) && typeof value.text.text === 'string'
  );
}

/**
 * The option object as Slack reports a selection: the definition's option, with `emoji: true` that
 * Slack adds to plain_text. A value that is not among the options is no selection.
 */
function pickOption(options: BlockOption[], value: string | null | undefined): BlockOption | null {
  if (value === null || value === undefined) return null;
  const option = options.find((o) => o.value === value);
  if (!option) return null;
  const text = option.text.type === 'plain_text' ? { emoji: true, ...option.text } : { ...option.text };
  return { ...option, text };
}

function initialOption(element: Json): BlockOption | null {
  return isOption(element.initial_option) ? pickOption([element.initial_option], element.initial_option.value) : null;
}

function optionsFor(located: LocatedElement, suggested: SuggestedOptions | undefined): BlockOption[] {
  const { element, blockId } = located;
  const type = element.type;
  if (type === 'external_select' || type === 'multi_external_select') {
    const fromBot = suggested?.(blockId, String(element.action_id)) ?? [];
    const initial = [
      element.initial_option,
      ...(Array.isArray(element.initial_options) ? element.initial_options : []),
    ].filter(isOption);
    return [...fromBot, ...initial];
  }
  return elementOptions(element);
}

// ---- view.state.values --------------------------------------------------------------------------

/** Element types whose value Slack keeps in `view.state.values` (buttons and overflows are not state). */
const STATEFUL = new Set([
  'plain_text_input',
  'email_text_input',
  'url_text_input',
  'number_input',
  'static_select',
  'external_select',
  'multi_static_select',
  'multi_external_select',
  'radio_buttons',
  'checkboxes',
  'datepicker',
  'users_select',
  'multi_users_select',
  'conversations_select',
  'channels_select',
]);

/**
 * One element's state as Slack shapes it (docs.slack.dev reference/interaction-payloads/view-interactions-payload):
 * text inputs `{type, value}` with `value: null` when empty; selects and radio buttons
 * `selected_option` (null when nothing is picked); checkboxes and multi selects `selected_options`;
 * datepicker `selected_date`; users/conversations/channels selects their id field.
 */
export function elementState(
  located: LocatedElement,
  input: PageInput | undefined,
  suggested?: SuggestedOptions,
): Json | undefined {
  const { element } = located;
  const type = str(element.type) ?? '';
  switch (type) {
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input': {
      const typed = input ? input.value : str(element.initial_value);
      return { type, value: typed === undefined || typed === '' ? null : typed };
    }
    case 'static_select':
    case 'external_select':
    case 'radio_buttons': {
      const selected = input ? pickOption(optionsFor(located, suggested), input.selected) : initialOption(element);
      return { type, selected_option: selected };
    }
    case 'checkboxes':
    case 'multi_static_select':
    case 'multi_external_select': {
      const options = optionsFor(located, suggested);
      const values =
        input?.selectedValues ??
        (Array.isArray(element.initial_options) ? element.initial_options.filter(isOption).map((o) => o.value) : []);
      const selected = [...new Set(values)]
        .map((v) => pickOption(options, v))
        .filter((o): o is BlockOption => o !== null);
      return { type, selected_options: selected };
    }
    case 'datepicker': {
      const date = input ? input.date : str(element.initial_date);
      return { type, selected_date: date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : null };
    }
    case 'users_select':
      return { type, selected_user: input ? (input.id ?? null) : (str(element.initial_user) ?? null) };
    case 'multi_users_select':
      return { type, selected_users: input?.selectedValues ?? [] };
    case 'conversations_select':
      return { type, selected_conversation: input ? (input.id ?? null) : (str(element.initial_conversation) ?? null) };
    case 'channels_select':
      return { type, selected_channel: input ? (input.id ?? null) : (str(element.initial_channel) ?? null) };
    default:
      return undefined;
  }
}

/**
 * `view.state.values` for a view's blocks and what the page holds: every stateful element of an
 * input or actions block, keyed `[block_id][action_id]`. Controls the page reports that the view
 * does not have are dropped, as are blocks without a `block_id` (Slack generates one; the bot's
 * views always name theirs).
 */
export function stateValues(
  blocks: unknown,
  form: PageForm,
  suggested?: SuggestedOptions,
): Record<string, Record<string, Json>> {
  const values: Record<string, Record<string, Json>> = {};
  for (const located of interactiveElements(blocks)) {
    const { block, blockId, element } = located;
    if (!blockId || (block.type !== 'input' && block.type !== 'actions')) continue;
    if (!STATEFUL.has(str(element.type) ?? '')) continue;
    const actionId = String(element.action_id);
    const state = elementState(located, form[blockId]?.[actionId], suggested);
    if (state) values[blockId] = { ...values[blockId], [actionId]: state };
  }
  return values;
}

/**
 * The `actions[0]` of a block_actions payload for one element and what the person did: a button
 * carries its text, value and style; a select its `selected_option`; an overflow the picked option.
 * Returns undefined when the pick is not one of the element's options.
 */
export function actionFor(
  located: LocatedElement,
  input: PageInput | undefined,
  actionTs: string,
  suggested?: SuggestedOptions,
): Json | undefined {
  const { element, blockId } = located;
  const type = str(element.type) ?? '';
  const base: Json = { type, action_id: element.action_id, block_id: blockId, action_ts: actionTs };
  switch (type) {
    case 'button':
      return {
        ...base,
        text: element.text,
        ...(element.value !== undefined ? { value: element.value } : {}),
        ...(element.style !== undefined ? { style: element.style } : {}),
        ...(element.url !== undefined ? { url: element.url } : {}),
      };
    case 'overflow': {
      const selected = pickOption(elementOptions(element), input?.selected);
      return selected ? { ...base, selected_option: selected } : undefined;
    }
    default: {
      const state = elementState(located, input, suggested);
      if (!state) return undefined;
      if ('selected_option' in state && state.selected_option === null) return undefined;
      const placeholder = element.placeholder !== undefined ? { placeholder: element.placeholder } : {};
      return { ...base, ...state, ...placeholder };
    }
  }
}
