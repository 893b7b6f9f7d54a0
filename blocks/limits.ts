/**
 * Slack's documented Block Kit limits (TECH-NOTES §5), named so every builder truncates against the
 * same numbers. A message over them is rejected by Slack (`invalid_blocks`); builders cut instead.
 */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  fieldText: 2000,
  contextText: 3000,
  headerText: 150,
  buttonText: 75,
  modalTitle: 24,
  modalButton: 24,
  blockId: 255,
  actionId: 255,
  selectOptions: 100,
  optionText: 75,
  /** @slack/types says 75, current docs say 150: 75 is safe everywhere. */
  optionValue: 75,
  optionDescription: 75,
  privateMetadata: 3000,
  callbackId: 255,
  plainTextInput: 3000,
  inputLabel: 2000,
  /** chat.postMessage `text` (the notification fallback): Slack truncates beyond 40,000. */
  messageText: 40_000,
  /** chat.update `text`: over 4,000 Slack answers `msg_too_long` (SLK-REF chat.update.json). */
  updateText: 4_000,
  /**
   * The text of all a message's blocks together. Over about 12,000 characters chat.postMessage
   * answers `msg_blocks_too_long` (undocumented in numbers; slackapi/bolt-js#2509 and #2867, where
   * a message was refused at 11,341 counted characters). Messages built from lists keep to
   * `messageBlocksTextBudget`, a margin below it.
   */
  messageBlocksText: 12_000,
  messageBlocksTextBudget: 10_000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

const ELLIPSIS = '…';

/** Cuts `text` to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  // Do not split a surrogate pair: an orphaned half renders as a broken glyph.
  let cut = max - ELLIPSIS.length;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return text.slice(0, Math.max(0, cut)) + ELLIPSIS;
}

/**
 * Cuts already-escaped mrkdwn without splitting an entity (`&amp;`, `&lt;`, `&gt;`): a half entity
 * would show as text like `&am`.
 */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = truncate(text, max).slice(0, -ELLIPSIS.length);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return cut + ELLIPSIS;
}

/** Keeps at most `max` items; when some are dropped, the last kept one says how many. */
export function capList<T>(items: readonly T[], max: number, more: (dropped: number) => T): T[] {
  if (items.length <= max) return [...items];
  const kept = items.slice(0, max - 1);
  return [...kept, more(items.length - kept.length)];
}

/**
 * All the text a message's blocks carry: every `text` string in the tree (section and header texts,
 * fields, context elements, button and option labels). This is the measure Slack's
 * `msg_blocks_too_long` is about (LIMITS.messageBlocksText).
 */
export function blockText(blocks: readonly unknown[]): number {
  let total = 0;
  const walk = (value: unknown, key?: string): void => {
    if (typeof value === 'string') {
      if (key === 'text') total += value.length;
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(blocks);
  return total;
}

type TextHolder = { type?: unknown; text?: unknown };

/**
 * The safety net behind every builder's own budget: while the blocks carry more text than
 * `budget`, the longest text (a section, field or context element) is cut, so a message never
 * meets `msg_blocks_too_long` however long the names and reasons in it are. Returns new blocks.
 */
export function fitTextBudget<T>(blocks: readonly T[], budget: number = LIMITS.messageBlocksTextBudget): T[] {
  let excess = blockText(blocks) - budget;
  if (excess <= 0) return [...blocks];
  const copy = structuredClone(blocks) as T[];
  const holders: TextHolder[] = [];
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) collect(item);
    } else if (value && typeof value === 'object') {
      const v = value as TextHolder & Record<string, unknown>;
      if ((v.type === 'mrkdwn' || v.type === 'plain_text') && typeof v.text === 'string') holders.push(v);
      for (const child of Object.values(v)) if (child && typeof child === 'object') collect(child);
    }
  };
  collect(copy);
  while (excess > 0) {
    const length = (h: TextHolder) => (h.text as string).length;
    const longest = holders.reduce<TextHolder | undefined>((a, b) => (!a || length(b) > length(a) ? b : a), undefined);
    const text = longest?.text as string | undefined;
    if (!longest || !text || text.length <= 80) break;
    const target = Math.max(80, text.length - excess);
    longest.text = longest.type === 'mrkdwn' ? truncateMrkdwn(text, target) : truncate(text, target);
    excess -= text.length - (longest.text as string).length;
  }
  return copy;
}
