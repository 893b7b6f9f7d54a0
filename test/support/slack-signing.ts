import { createHmac, randomBytes } from 'node:crypto';

/**
 * Requests shaped and signed exactly as Slack sends them to a bot (TECH-NOTES §2), for tests
 * that drive the bot over HTTP. Trigger ids and response URLs come from the Slack stand-in
 * (`standIn.issueTriggerId(userId)`, `standIn.issueResponseUrl(...)`) so the bot's follow-up
 * calls land there.
 */

/** Slack request signing v0: HMAC-SHA256(secret, `v0:${ts}:${rawBody}`), hex, prefixed "v0=". */
export function slackSignatureHeaders(signingSecret: string, rawBody: string,
  tsSec = Math.floor(Date.now() / 1000)): { 'X-Slack-Request-Timestamp': string; 'X-Slack-Signature': string } {
  const sig = 'v0=' + createHmac('sha256', signingSecret).update(`v0:${tsSec}:${rawBody}`).digest('hex');
  return { 'X-Slack-Request-Timestamp': String(tsSec), 'X-Slack-Signature': sig };
}

export interface SlackHttpResult {
  status: number;
  /** The raw response body (Bolt acks with an empty body or a JSON one). */
  body: string;
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

/** How to sign: a timestamp other than now (stale-request tests) or a forged signature. */
export interface SigningOptions {
  tsSec?: number;
  signature?: string;
}

/**
 * The bot's request URL. A bare origin (`http://127.0.0.1:3000`) gets Bolt's default endpoint
 * `/slack/events`; a URL with a path is used as it is.
 */
export function slackEventsUrl(botUrl: string): string {
  const url = new URL(botUrl);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/slack/events';
  return url.toString();
}

/** POSTs a raw body signed with the secret; the content type is passed bare, as Slack does. */
export async function postSigned(botUrl: string, secret: string, rawBody: string,
  contentType: 'application/x-www-form-urlencoded' | 'application/json', signing: SigningOptions = {}): Promise<SlackHttpResult> {
  const headers: Record<string, string> = {
    // Bolt compares the form content type with exact equality: no "; charset=utf-8".
    'content-type': contentType,
    ...slackSignatureHeaders(secret, rawBody, signing.tsSec),
  };
  if (signing.signature !== undefined) headers['X-Slack-Signature'] = signing.signature;
  const response = await fetch(slackEventsUrl(botUrl), { method: 'POST', headers, body: rawBody });
  const body = await response.text();
  let json: unknown;
  try {
    json = body ? JSON.parse(body) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, body, json };
}

/** Interactivity payloads travel as one urlencoded field, `payload=<JSON>`. */
function postPayload(botUrl: string, secret: string, payload: Record<string, unknown>, signing?: SigningOptions): Promise<SlackHttpResult> {
  const rawBody = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return postSigned(botUrl, secret, rawBody, 'application/x-www-form-urlencoded', signing);
}

const DEFAULT_APP_ID = 'A0ACCESSBOT';
const DEFAULT_TEAM_ID = 'T0SANDBOX';

/** A trigger id no stand-in issued: views.open with it answers `invalid_trigger_id`. */
function unissuedTriggerId(): string {
  return `0.0.${randomBytes(6).toString('hex')}`;
}

export interface SlashCommandInput {
  userId: string;
  teamId?: string;
  command?: string;
  text?: string;
  channelId?: string;
  triggerId?: string;
  responseUrl?: string;
  userName?: string;
  channelName?: string;
}

/** A slash command: flat urlencoded fields, the keys Bolt puts in `command`. */
export function sendSlashCommand(botUrl: string, secret: string, input: SlashCommandInput,
  signing?: SigningOptions): Promise<SlackHttpResult> {
  const rawBody = new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: input.teamId ?? DEFAULT_TEAM_ID,
    team_domain: 'sandbox',
    channel_id: input.channelId ?? 'C0GENERAL',
    channel_name: input.channelName ?? 'general',
    user_id: input.userId,
    user_name: input.userName ?? input.userId.toLowerCase(),
    command: input.command ?? '/access',
    text: input.text ?? '',
    api_app_id: DEFAULT_APP_ID,
    response_url: input.responseUrl ?? 'http://127.0.0.1:9/response/none',
    trigger_id: input.triggerId ?? unissuedTriggerId(),
  }).toString();
  return postSigned(botUrl, secret, rawBody, 'application/x-www-form-urlencoded', signing);
}

/** A Slack view object as views.open answers it (e.g. from `apiView(...)`), id included. */
export type SlackViewPayload = Record<string, unknown> & { id: string };

export interface BlockActionInput {
  userId: string;
  teamId?: string;
  /** The clicking user's own team, when it differs from the payload's (Slack Connect); null leaves it out. */
  userTeamId?: string | null;
  actionId: string;
  blockId?: string;
  /** The action as Slack reports it; defaults to a button. Merged over the defaults. */
  action?: Record<string, unknown>;
  value?: string;
  triggerId?: string;
  responseUrl?: string;
  /** The message the button was in. */
  message?: { channelId: string; ts: string; text?: string; blocks?: unknown[]; isEphemeral?: boolean };
  /** The view the element was in (a modal or the App Home). */
  view?: SlackViewPayload;
}

/** A block_actions payload from a message button/select, or from an element in a view. */
export function sendBlockAction(botUrl: string, secret: string, input: BlockActionInput,
  signing?: SigningOptions): Promise<SlackHttpResult> {
  const teamId = input.teamId ?? DEFAULT_TEAM_ID;
  const action = {
    type: 'button',
    action_id: input.actionId,
    block_id: input.blockId ?? 'actions',
    ...(input.value !== undefined ? { value: input.value } : {}),
    action_ts: `${Math.floor(Date.now() / 1000)}.000100`,
    ...input.action,
  };
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: { id: input.userId, username: input.userId.toLowerCase(), ...(input.userTeamId === null ? {} : { team_id: input.userTeamId ?? teamId }) },
    api_app_id: DEFAULT_APP_ID,
    token: 'deprecated-verification-token',
    team: { id: teamId, domain: 'sandbox' },
    trigger_id: input.triggerId ?? unissuedTriggerId(),
    actions: [action],
  };
  if (input.message) {
    payload.container = {
      type: 'message', message_ts: input.message.ts, channel_id: input.message.channelId,
      is_ephemeral: input.message.isEphemeral ?? false,
    };
    payload.channel = { id: input.message.channelId };
    payload.message = {
      type: 'message', ts: input.message.ts, text: input.message.text ?? '', blocks: input.message.blocks ?? [],
    };
  }
  if (input.view) {
    payload.container = { type: 'view', view_id: input.view.id };
    payload.view = input.view;
  }
  if (input.responseUrl) payload.response_url = input.responseUrl;
  return postPayload(botUrl, secret, payload, signing);
}

export interface ViewSubmissionInput {
  userId: string;
  teamId?: string;
  view: SlackViewPayload;
  /** `state.values[block_id][action_id]`, merged over what the view already holds. */
  values?: Record<string, Record<string, unknown>>;
  triggerId?: string;
}

/** A view_submission payload: the modal as it stands, with what the person typed. */
export function sendViewSubmission(botUrl: string, secret: string, input: ViewSubmissionInput,
  signing?: SigningOptions): Promise<SlackHttpResult> {
  const teamId = input.teamId ?? DEFAULT_TEAM_ID;
  const state = input.view.state as { values?: Record<string, Record<string, unknown>> } | undefined;
  const values = { ...state?.values };
  for (const [blockId, actions] of Object.entries(input.values ?? {})) values[blockId] = { ...values[blockId], ...actions };
  return postPayload(botUrl, secret, {
    type: 'view_submission',
    team: { id: teamId, domain: 'sandbox' },
    user: { id: input.userId, username: input.userId.toLowerCase(), team_id: teamId },
    api_app_id: DEFAULT_APP_ID,
    token: 'deprecated-verification-token',
    trigger_id: input.triggerId ?? unissuedTriggerId(),
    view: { ...input.view, state: { values } },
    response_urls: [],
  }, signing);
}

export interface BlockSuggestionInput {
  userId: string;
  teamId?: string;
  actionId: string;
  blockId: string;
  /** What the person typed so far. */
  value: string;
  view?: SlackViewPayload;
}

/** A block_suggestion payload: an external_select asks for options. */
export function sendBlockSuggestion(botUrl: string, secret: string, input: BlockSuggestionInput,
  signing?: SigningOptions): Promise<SlackHttpResult> {
  const teamId = input.teamId ?? DEFAULT_TEAM_ID;
  return postPayload(botUrl, secret, {
    type: 'block_suggestion',
    user: { id: input.userId, username: input.userId.toLowerCase(), team_id: teamId },
    team: { id: teamId, domain: 'sandbox' },
    api_app_id: DEFAULT_APP_ID,
    token: 'deprecated-verification-token',
    action_id: input.actionId,
    block_id: input.blockId,
    value: input.value,
    ...(input.view ? { container: { type: 'view', view_id: input.view.id }, view: input.view } : {}),
  }, signing);
}

export interface EventInput {
  teamId?: string;
  /** The inner event, e.g. `{type: 'app_home_opened', user: 'U1', tab: 'home', channel: 'D1'}`. */
  event: Record<string, unknown> & { type: string };
  eventId?: string;
}

/** An Events API `event_callback`, sent as JSON. */
export function sendEvent(botUrl: string, secret: string, input: EventInput,
  signing?: SigningOptions): Promise<SlackHttpResult> {
  const teamId = input.teamId ?? DEFAULT_TEAM_ID;
  const eventTime = Math.floor(Date.now() / 1000);
  const rawBody = JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: teamId,
    api_app_id: DEFAULT_APP_ID,
    event: { event_ts: `${eventTime}.000100`, ...input.event },
    type: 'event_callback',
    event_id: input.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: eventTime,
    authorizations: [{ team_id: teamId, user_id: 'U0ACCESSBOT', is_bot: true, is_enterprise_install: false }],
  });
  return postSigned(botUrl, secret, rawBody, 'application/json', signing);
}
