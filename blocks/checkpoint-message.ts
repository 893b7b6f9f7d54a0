/**
 * A signed checkpoint of the audit log in the checkpoint channel: a witness outside the database.
 * The checkpoint itself is one JSON line in a code block (and in the fallback text), so an auditor
 * copies the channel's checkpoints into a file and runs `access-bot audit verify --checkpoints`.
 * Nothing here came from a person: the values are numbers, hashes, base64 and an ISO time.
 */
import type { KnownBlock } from '@slack/web-api';
import type { SlackMessage } from './approval-message.js';
import { slackDate } from './format.js';

export interface CheckpointView {
  /** The checkpoint's wire form, one canonical JSON line (domain/checkpoint.ts `checkpointLine`). */
  line: string;
  seq: number;
  hash: string;
  at: string;
  keyId: string;
  timezone: string;
}

export function checkpointMessage(view: CheckpointView): SlackMessage {
  const events = `${view.seq.toLocaleString('en-US')} event${view.seq === 1 ? '' : 's'}`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Audit checkpoint' } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `The audit log held *${events}* at ${slackDate(view.at, view.timezone)}, the last with hash \`${view.hash.slice(0, 16)}…\`. Signed with key \`${view.keyId}\`.`,
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${view.line}\`\`\`` } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text:
            'To check the database against it, copy the line above into a file with the others and run ' +
            '`access-bot audit verify --checkpoints FILE --public-key KEY.pem` (the key: `access-bot audit public-key`).',
        },
      ],
    },
  ];
  return { text: `Audit checkpoint: the log held ${events}. ${view.line}`, blocks };
}
