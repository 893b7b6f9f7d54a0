/**
 * Block Kit limits as Slack's Web API enforces them, for the Slack stand-in and the sandbox page.
 *
 * Pure: a message's blocks or a view go in, a list of problems comes out, each with the JSON
 * pointer Slack puts in its answer. The numbers come from @slack/types 3.2.0 JSDoc and
 * https://docs.slack.dev/reference/block-kit/blocks (see TECH-NOTES §5). The problem texts copy
 * the ones Slack is seen to send:
 * - "must be less than 3001 characters [json-pointer:/blocks/0/text/text]" for a 3001-char
 *   section (yonicd/slackreprex#3, activepieces/activepieces#11149), i.e. "less than max + 1";
 * - "failed to match all allowed schemas [json-pointer:/blocks/0/text]" for a part no schema
 *   accepts (same issue);
 * - "no more than 100 items allowed [json-pointer:/view/blocks]" for arrays (grafana/oncall#210).
 * jeremeamia/slack-block-kit#3 shows "must be less than 24 characters [json-pointer:/view/title/text]"
 * for a long modal title; we keep the "max + 1" spelling everywhere so the number reads the same
 * way in every message. Texts for duplicate block ids and numeric maxima were not found and are
 * our wording.
 */

export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  /** chat.update `text` (SLK-REF chat.update.json `msg_too_long`). */
  updateText: 4_000,
  /** Text of all a message's blocks together; over it chat.postMessage answers `msg_blocks_too_long`. */
  messageBlocksText: 12_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  markdownText: 12_000,
  imageUrl: 3000,
  altText: 2000,
  blockId: 255,
  actionId: 255,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  placeholderText: 150,
  selectOptions: 100,
  optionGroups: 100,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  checkboxOptions: 10,
  overflowOptions: 5,
  inputLabel: 2000,
  inputHint: 2000,
  plainTextInputLength: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  viewTitle: 24,
  viewButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
  externalId: 255,
  /** Whole view payload; over it Slack answers `view_too_large`, not a schema error. */
  viewBytes: 250_000,
} as const;

export type BlockSurface = 'message' | 'modal' | 'home';

export interface BlockKitProblem {
  /** Slack's wording, without the pointer: "must be less than 3001 characters". */
  message: string;
  /** JSON pointer into the request argument: "/blocks/0/text/text" or "/view/title/text". */
  pointer: string;
}

/** "must be less than 3001 characters [json-pointer:/blocks/0/text/text]", as in Slack's `errors`. */
export function describeProblem(problem: BlockKitProblem): string {
  return `${problem.message} [json-pointer:${problem.pointer}]`;
}

const BLOCK_TYPES = new Set([
  'section',
  'divider',
  'image',
  'actions',
  'context',
  'input',
  'header',
  'rich_text',
  'file',
  'video',
  'markdown',
]);

/**
 * Blocks Slack accepts only in messages (docs.slack.dev/blocks.json "available-in-surfaces":
 * File: Messages; Markdown: Messages). Every other type the stand-in knows is allowed everywhere.
 */
const MESSAGE_ONLY_BLOCKS = new Set(['file', 'markdown']);

/**
 * Which elements each container takes (docs.slack.dev/blocks.json "compatible-block-elements" and
 * the element pages' "works with"): text inputs only in input blocks; buttons, overflows and
 * images never in an input block.
 */
const INPUT_ONLY_ELEMENTS = new Set([
  'plain_text_input',
  'email_text_input',
  'number_input',
  'url_text_input',
  'file_input',
]);
const NOT_IN_INPUT = new Set(['button', 'overflow', 'image', 'workflow_button']);

const SELECT_TYPES = new Set([
  'static_select',
  'multi_static_select',
  'external_select',
  'multi_external_select',
  'users_select',
  'multi_users_select',
  'conversations_select',
  'multi_conversations_select',
  'channels_select',
  'multi_channels_select',
]);

const OTHER_ELEMENT_TYPES = new Set([
  'button',
  'overflow',
  'datepicker',
  'timepicker',
  'datetimepicker',
  'plain_text_input',
  'checkboxes',
  'radio_buttons',
  'image',
  'email_text_input',
  'number_input',
  'url_text_input',
  'rich_text_input',
  'file_input',
  'workflow_button',
]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects problems while walking one payload. */
class Walker {
  readonly problems: BlockKitProblem[] = [];

  add(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  maxChars(value: unknown, max: number, pointer: string): void {
    if (typeof value === 'string' && value.length > max) this.add(pointer, `must be less than ${max + 1} characters`);
  }

  maxItems(value: unknown, max: number, pointer: string): void {
    if (Array.isArray(value) && value.length > max) this.add(pointer, `no more than ${max} items allowed`);
  }

  /** A text object: `{type: plain_text|mrkdwn, text}` of 1..max characters. */
  text(value: unknown, max: number, pointer: string, plainOnly = false): void {
    if (
      !isObject(value) ||
      typeof value.text !== 'string' ||
      (value.type !== 'plain_text' && (plainOnly || value.type !== 'mrkdwn'))
    ) {
      this.add(pointer, 'failed to match all allowed schemas');
      return;
    }
    if (value.text.length === 0) this.add(`${pointer}/text`, 'must be more than 0 characters');
    this.maxChars(value.text, max, `${pointer}/text`);
  }

  optionalText(value: unknown, max: number, pointer: string, plainOnly = false): void {
    if (value !== undefined) this.text(value, max, pointer, plainOnly);
  }

  /** The surface being checked; some blocks exist only in messages. */
  surface: BlockSurface = 'message';

  blocks(blocks: unknown, surface: BlockSurface, pointer: string): void {
    this.surface = surface;
    if (!Array.isArray(blocks)) {
      this.add(pointer, 'must be an array');
      return;
    }
    this.maxItems(
      blocks,
      surface === 'message' ? BLOCK_KIT_LIMITS.messageBlocks : BLOCK_KIT_LIMITS.viewBlocks,
      pointer,
    );
    const seenBlockIds = new Set<string>();
    blocks.forEach((block, index) => {
      const at = `${pointer}/${index}`;
      if (isObject(block) && typeof block.block_id === 'string') {
        // Slack keys interaction state by block_id, so two blocks may not share one.
        if (seenBlockIds.has(block.block_id)) this.add(`${at}/block_id`, `duplicate block_id: ${block.block_id}`);
        seenBlockIds.add(block.block_id);
      }
      this.block(block, at);
    });
  }

  block(block: unknown, at: string): void {
    if (!isObject(block) || typeof block.type !== 'string' || !BLOCK_TYPES.has(block.type)) {
      this.add(at, 'failed to match all allowed schemas');
      return;
    }
    this.maxChars(block.block_id, BLOCK_KIT_LIMITS.blockId, `${at}/block_id`);
    if (MESSAGE_ONLY_BLOCKS.has(block.type) && this.surface !== 'message') {
      this.add(`${at}/type`, `block type ${block.type} is not allowed in a ${this.surface}`);
      return;
    }
    switch (block.type) {
      case 'section':
        if (block.text === undefined && block.fields === undefined) {
          this.add(at, 'must define either `text` or `fields`');
        }
        this.optionalText(block.text, BLOCK_KIT_LIMITS.sectionText, `${at}/text`);
        if (block.fields !== undefined) {
          this.maxItems(block.fields, BLOCK_KIT_LIMITS.sectionFields, `${at}/fields`);
          if (Array.isArray(block.fields)) {
            block.fields.forEach((field, i) =>
              this.text(field, BLOCK_KIT_LIMITS.sectionFieldText, `${at}/fields/${i}`),
            );
          }
        }
        if (block.accessory !== undefined) this.element(block.accessory, `${at}/accessory`, 'accessory');
        break;
      case 'header':
        this.text(block.text, BLOCK_KIT_LIMITS.headerText, `${at}/text`, true);
        break;
      case 'context':
        if (!Array.isArray(block.elements)) {
          this.add(`${at}/elements`, 'must be an array');
          break;
        }
        this.maxItems(block.elements, BLOCK_KIT_LIMITS.contextElements, `${at}/elements`);
        block.elements.forEach((element, i) => {
          const elementAt = `${at}/elements/${i}`;
          if (isObject(element) && element.type === 'image') this.image(element, elementAt);
          else this.text(element, BLOCK_KIT_LIMITS.sectionText, elementAt);
        });
        break;
      case 'actions':
        if (!Array.isArray(block.elements)) {
          this.add(`${at}/elements`, 'must be an array');
          break;
        }
        this.maxItems(block.elements, BLOCK_KIT_LIMITS.actionsElements, `${at}/elements`);
        block.elements.forEach((element, i) => this.element(element, `${at}/elements/${i}`, 'actions'));
        break;
      case 'input':
        this.text(block.label, BLOCK_KIT_LIMITS.inputLabel, `${at}/label`, true);
        this.optionalText(block.hint, BLOCK_KIT_LIMITS.inputHint, `${at}/hint`, true);
        this.element(block.element, `${at}/element`, 'input');
        break;
      case 'image':
        this.image(block, at);
        this.optionalText(block.title, 2000, `${at}/title`, true);
        break;
      case 'markdown':
        if (typeof block.text !== 'string') this.add(`${at}/text`, 'must be a string');
        this.maxChars(block.text, BLOCK_KIT_LIMITS.markdownText, `${at}/text`);
        break;
      default:
        break; // divider, rich_text, file, video: nothing the bot sends is limited there
    }
  }

  image(image: Json, at: string): void {
    this.maxChars(image.image_url, BLOCK_KIT_LIMITS.imageUrl, `${at}/image_url`);
    this.maxChars(image.alt_text, BLOCK_KIT_LIMITS.altText, `${at}/alt_text`);
  }

  element(element: unknown, at: string, container: 'actions' | 'accessory' | 'input'): void {
    if (
      !isObject(element) ||
      typeof element.type !== 'string' ||
      !(SELECT_TYPES.has(element.type) || OTHER_ELEMENT_TYPES.has(element.type))
    ) {
      this.add(at, 'failed to match all allowed schemas');
      return;
    }
    const misplaced = container === 'input' ? NOT_IN_INPUT.has(element.type) : INPUT_ONLY_ELEMENTS.has(element.type);
    if (misplaced) {
      const where = container === 'accessory' ? 'a section accessory' : `an ${container} block`;
      this.add(`${at}/type`, `element type ${element.type} is not allowed in ${where}`);
      return;
    }
    this.maxChars(element.action_id, BLOCK_KIT_LIMITS.actionId, `${at}/action_id`);
    this.optionalText(element.placeholder, BLOCK_KIT_LIMITS.placeholderText, `${at}/placeholder`, true);
    if (element.confirm !== undefined) this.confirm(element.confirm, `${at}/confirm`);
    if (element.type === 'button') {
      this.text(element.text, BLOCK_KIT_LIMITS.buttonText, `${at}/text`, true);
      this.maxChars(element.value, BLOCK_KIT_LIMITS.buttonValue, `${at}/value`);
      this.maxChars(element.url, BLOCK_KIT_LIMITS.buttonUrl, `${at}/url`);
    } else if (SELECT_TYPES.has(element.type)) {
      if (element.type === 'static_select' || element.type === 'multi_static_select') {
        // Exactly one of `options` and `option_groups` (static select docs: "If option_groups is
        // specified, this field should not be").
        if ((element.options === undefined) === (element.option_groups === undefined)) {
          this.add(at, 'must provide exactly one of `options` or `option_groups`');
        }
        this.initialOptions(element, at);
      }
      this.options(element.options, BLOCK_KIT_LIMITS.selectOptions, `${at}/options`);
      if (element.option_groups !== undefined) {
        this.maxItems(element.option_groups, BLOCK_KIT_LIMITS.optionGroups, `${at}/option_groups`);
        if (Array.isArray(element.option_groups)) {
          element.option_groups.forEach((group, i) => {
            if (isObject(group))
              this.options(group.options, BLOCK_KIT_LIMITS.selectOptions, `${at}/option_groups/${i}/options`);
          });
        }
      }
    } else if (element.type === 'overflow') {
      this.options(element.options, BLOCK_KIT_LIMITS.overflowOptions, `${at}/options`);
    } else if (element.type === 'checkboxes' || element.type === 'radio_buttons') {
      this.options(element.options, BLOCK_KIT_LIMITS.checkboxOptions, `${at}/options`);
      this.initialOptions(element, at);
    } else if (element.type === 'plain_text_input') {
      for (const key of ['max_length', 'min_length'] as const) {
        const value = element[key];
        if (typeof value === 'number' && value > BLOCK_KIT_LIMITS.plainTextInputLength) {
          this.add(`${at}/${key}`, `must be less than or equal to ${BLOCK_KIT_LIMITS.plainTextInputLength}`);
        }
      }
    }
  }

  options(options: unknown, max: number, at: string): void {
    if (options === undefined) return;
    if (!Array.isArray(options)) {
      this.add(at, 'must be an array');
      return;
    }
    this.maxItems(options, max, at);
    options.forEach((option, i) => {
      const optionAt = `${at}/${i}`;
      if (!isObject(option)) {
        this.add(optionAt, 'failed to match all allowed schemas');
        return;
      }
      this.text(option.text, BLOCK_KIT_LIMITS.optionText, `${optionAt}/text`);
      this.maxChars(option.value, BLOCK_KIT_LIMITS.optionValue, `${optionAt}/value`);
      this.optionalText(option.description, BLOCK_KIT_LIMITS.optionDescription, `${optionAt}/description`);
    });
  }

  /**
   * `initial_option` (and each of `initial_options`) "must exactly match one of the options within
   * options or option_groups" (select, radio and checkbox element docs); external selects have no
   * options to match, so they are not checked.
   */
  initialOptions(element: Json, at: string): void {
    const all = [
      ...(Array.isArray(element.options) ? element.options : []),
      ...(Array.isArray(element.option_groups)
        ? element.option_groups.flatMap((g) => (isObject(g) && Array.isArray(g.options) ? g.options : []))
        : []),
    ];
    const known = new Set(all.map(optionKey));
    const check = (option: unknown, pointer: string) => {
      if (!known.has(optionKey(option))) this.add(pointer, 'must match one of the provided options');
    };
    if (element.initial_option !== undefined) check(element.initial_option, `${at}/initial_option`);
    if (Array.isArray(element.initial_options)) {
      element.initial_options.forEach((o, i) => check(o, `${at}/initial_options/${i}`));
    }
  }

  confirm(confirm: unknown, at: string): void {
    if (!isObject(confirm)) {
      this.add(at, 'failed to match all allowed schemas');
      return;
    }
    this.text(confirm.title, BLOCK_KIT_LIMITS.confirmTitle, `${at}/title`, true);
    this.text(confirm.text, BLOCK_KIT_LIMITS.confirmText, `${at}/text`);
    this.text(confirm.confirm, BLOCK_KIT_LIMITS.confirmButton, `${at}/confirm`, true);
    this.text(confirm.deny, BLOCK_KIT_LIMITS.confirmButton, `${at}/deny`, true);
  }
}

/** An option's identity for `initial_option` matching: its value and its text. */
function optionKey(option: unknown): string {
  if (!isObject(option)) return '';
  const text = isObject(option.text) ? option.text.text : undefined;
  return JSON.stringify([option.value, text]);
}

/**
 * All the text a message's blocks carry: every `text` string in the tree (section and header text,
 * fields, context elements, button and option labels, rich text), the measure bolt-js#2867 uses.
 */
export function blockTextLength(blocks: unknown): number {
  let total = 0;
  const walk = (value: unknown, key?: string): void => {
    if (typeof value === 'string') {
      if (key === 'text') total += value.length;
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (isObject(value)) for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(blocks);
  return total;
}

/** Problems with the `blocks` argument of chat.postMessage / chat.update / chat.postEphemeral. */
export function checkMessageBlocks(blocks: unknown): BlockKitProblem[] {
  const walker = new Walker();
  walker.blocks(blocks, 'message', '/blocks');
  return walker.problems;
}

/** Problems with the `view` argument of views.open / push / update (modal) or views.publish (home). */
export function checkView(view: unknown, surface: 'modal' | 'home'): BlockKitProblem[] {
  const walker = new Walker();
  if (!isObject(view)) {
    walker.add('/view', 'failed to match all allowed schemas');
    return walker.problems;
  }
  if (view.type !== surface) walker.add('/view/type', `must be "${surface}"`);
  if (surface === 'modal') {
    walker.text(view.title, BLOCK_KIT_LIMITS.viewTitle, '/view/title', true);
    walker.optionalText(view.submit, BLOCK_KIT_LIMITS.viewButton, '/view/submit', true);
    walker.optionalText(view.close, BLOCK_KIT_LIMITS.viewButton, '/view/close', true);
    // Documented rule: a modal with an input block needs a submit button.
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined)
      walker.add('/view', 'must provide `submit` when an `input` block is present');
  }
  walker.maxChars(view.private_metadata, BLOCK_KIT_LIMITS.privateMetadata, '/view/private_metadata');
  walker.maxChars(view.callback_id, BLOCK_KIT_LIMITS.callbackId, '/view/callback_id');
  walker.maxChars(view.external_id, BLOCK_KIT_LIMITS.externalId, '/view/external_id');
  walker.blocks(view.blocks, surface, '/view/blocks');
  return walker.problems;
}

/** Byte size of a view as it travels (UTF-8 JSON); over `viewBytes` Slack answers `view_too_large`. */
export function viewByteLength(view: unknown): number {
  return new TextEncoder().encode(JSON.stringify(view)).length;
}
