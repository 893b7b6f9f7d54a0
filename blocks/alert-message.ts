/**
 * An alert in the alerts channel: provisioning that failed, a revocation that keeps failing or is
 * overdue, access removed outside the bot. The text comes from the core (it names people and
 * provider errors), so it is escaped; the grant and request it is about are shown for follow-up.
 */
import type { KnownBlock } from '@slack/web-api';
import type { SlackMessage } from './approval-message.js';
import { escapeMrkdwn } from './escape.js';
import { duration, slackDate } from './format.js';
import { LIMITS, truncateMrkdwn } from './limits.js';

export interface AlertView {
  text: string;
  at: string;
  timezone: string;
  /** The grant the alert is about, when there is one. */
  grant?:
    | {
        id: string;
        appName: string;
        roleName: string;
        holderName: string;
        holderEmail: string;
        status: string;
        durationSeconds?: number;
      }
    | undefined;
  requestId?: string | undefined;
}

export function alertMessage(alert: AlertView): SlackMessage {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Access alert' } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: truncateMrkdwn(`⚠️ ${escapeMrkdwn(alert.text)}`, LIMITS.sectionText) },
    },
  ];
  if (alert.grant) {
    const g = alert.grant;
    blocks.push({
      type: 'section',
      fields: [
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(`*Access*\n${escapeMrkdwn(g.appName)} ${escapeMrkdwn(g.roleName)}`, LIMITS.fieldText),
        },
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(
            `*Holder*\n${escapeMrkdwn(g.holderName)} (${escapeMrkdwn(g.holderEmail)})`,
            LIMITS.fieldText,
          ),
        },
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(`*Grant status now*\n${escapeMrkdwn(g.status.replaceAll('_', ' '))}`, LIMITS.fieldText),
        },
      ],
    });
  }
  const ids = [alert.grant && `grant \`${alert.grant.id}\``, alert.requestId && `request \`${alert.requestId}\``]
    .filter(Boolean)
    .join(' · ');
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncateMrkdwn(
          `${slackDate(alert.at, alert.timezone)}${ids ? ` · ${ids}` : ''} · details in \`access-bot export events\``,
          LIMITS.contextText,
        ),
      },
    ],
  });
  // What a phone's notification shows: who, what and how long first, then what happened.
  const g = alert.grant;
  const about = g
    ? `${g.holderName} · ${g.appName} ${g.roleName}${g.durationSeconds ? ` (${duration(g.durationSeconds)})` : ''}: `
    : '';
  return { text: truncateMrkdwn(escapeMrkdwn(`Access alert: ${about}${alert.text}`), LIMITS.messageText), blocks };
}
