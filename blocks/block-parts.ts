/**
 * The Block Kit parts every builder uses, each truncated to its Slack limit: a mrkdwn section, a
 * plain-text header, a mrkdwn context line, plain text and a modal's title, and a person's text
 * quoted on one line.
 */
import type { ContextBlock, HeaderBlock, SectionBlock } from '@slack/web-api';
import { escapeMrkdwn } from './escape.js';
import { LIMITS, truncate, truncateMrkdwn } from './limits.js';

export function section(text: string, blockId?: string): SectionBlock {
  return {
    type: 'section',
    ...(blockId ? { block_id: blockId } : {}),
    text: { type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.sectionText) },
  };
}

export function header(text: string): HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMITS.headerText) } };
}

export function context(text: string): ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.contextText) }] };
}

export function plain(text: string, max: number): { type: 'plain_text'; text: string } {
  return { type: 'plain_text', text: truncate(text, max) };
}

/** A modal's title (Slack cuts nothing: longer is refused). */
export function title(text: string): { type: 'plain_text'; text: string } {
  return plain(text, LIMITS.modalTitle);
}

/** A justification or reason inside a sentence: on one line, escaped, in quotes, at most 1,500 characters. */
export function quoteInline(text: string): string {
  return `“${truncateMrkdwn(escapeMrkdwn(text.replaceAll('\n', ' ')), 1500)}”`;
}
