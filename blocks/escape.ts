/**
 * Everything a person typed (justifications, reasons, names) goes through `escapeMrkdwn` before it
 * reaches a mrkdwn text: Slack reads `<!channel>`, `<@U123>` and `<https://x|label>` as controls,
 * so the three characters Slack's docs name (&, <, >) are replaced by their entities and typed text
 * cannot mention everyone or forge a link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A Slack mention when the Slack id is known, else the escaped name. */
export function mention(person: { name: string; slackId?: string | null }): string {
  return person.slackId && /^[UW][A-Z0-9]+$/.test(person.slackId) ? `<@${person.slackId}>` : escapeMrkdwn(person.name);
}

/** A channel link for a channel id; anything else is escaped text. */
export function channelLink(channel: string): string {
  return /^[CG][A-Z0-9]+$/.test(channel) ? `<#${channel}>` : escapeMrkdwn(channel);
}

/** A quoted block of typed text, each line prefixed with `>` (after escaping, so `>` typed stays text). */
export function quote(text: string): string {
  return escapeMrkdwn(text)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
}
