/**
 * Every message built from a list stays within Slack's total block text (`msg_blocks_too_long`
 * above about 12,000 characters) by design: the lists stop at the budget and say how many more.
 */
import { describe, expect, it } from 'vitest';
import { pendingMessage } from '../../blocks/command-replies.js';
import { approvalMessage } from '../../blocks/approval-message.js';
import { LIMITS, blockText, fitTextBudget } from '../../blocks/limits.js';
import { checkMessageBlocks } from '../../src/sandbox/slack-api/block-kit-limits.js';
import { pendingCard, step2Card } from './cards.js';

const longJustification = 'Because '.repeat(370); // about 2,960 characters, as much as the form takes

describe('the total text of a message', () => {
  it('cuts /access pending at the budget however many long requests wait', () => {
    const asks = Array.from({ length: 12 }, (_, i) => ({
      card: { ...pendingCard(), id: `req_${i}`, justification: longJustification },
      stepIndex: 0,
    }));
    const message = pendingMessage(asks, 'u-marcus');
    expect(blockText(message.blocks)).toBeLessThanOrEqual(LIMITS.messageBlocksTextBudget);
    expect(checkMessageBlocks(message.blocks)).toEqual([]);
    expect(JSON.stringify(message.blocks)).toMatch(/and \d+ more waiting/);
  });

  it('keeps one approval message within the budget even when every part of it is long', () => {
    const card = step2Card();
    const person = (i: number) => ({
      name: `Reviewer with a long double-barrelled name ${i}`,
      email: `r${i}@example.com`,
      slackId: null,
      directoryId: `u-r${i}`,
    });
    const decisions = Array.from({ length: 60 }, (_, i) => ({
      person: person(i),
      decision: 'approve' as const,
      reason: 'R'.repeat(200),
      shortenedToSeconds: null,
      at: card.createdAt,
    }));
    const long = {
      ...card,
      status: 'approved' as const,
      justification: longJustification,
      requester: { ...card.requester, name: 'N'.repeat(400) },
      steps: card.steps.map((s) => ({
        ...s,
        status: 'approved' as const,
        required: 60,
        fallbackReason: 'F'.repeat(2_900),
        decisions,
      })),
    };
    const message = approvalMessage(long, 1, { kind: 'channel' });
    expect(blockText(message.blocks)).toBeLessThanOrEqual(LIMITS.messageBlocksTextBudget);
    expect(checkMessageBlocks(message.blocks)).toEqual([]);
  });

  it('fitTextBudget cuts the longest texts first and leaves short ones alone', () => {
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: 'short' } },
      { type: 'section', text: { type: 'mrkdwn', text: 'a &amp; '.repeat(1_000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'b'.repeat(3_000) }] },
    ];
    const fitted = fitTextBudget(blocks, 5_000);
    expect(blockText(fitted)).toBeLessThanOrEqual(5_000);
    expect(fitted[0]).toEqual(blocks[0]);
    expect(JSON.stringify(fitted)).not.toMatch(/&am…|&a…/); // never half an entity
    expect(blockText(blocks)).toBe(11_005); // the input is not changed
  });
});
