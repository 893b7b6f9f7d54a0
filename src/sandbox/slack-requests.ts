import { createHmac, randomBytes, randomInt } from 'node:crypto';

/**
 * What Slack sends a bot, shaped and signed as Slack shapes and signs it (TECH-NOTES §2): slash
 * commands, block_actions, block_suggestion, view_submission, view_closed and Events API
 * callbacks. One builder for both senders, so they cannot drift apart: the sandbox page
 * (`bot-dispatch.ts`) and the tests that drive the bot over HTTP (`test/support/slack-signing.ts`).
 * Pure, apart from `postSigned`, which sends one.
 */

/** Who acts and where: the ids Slack puts in every payload. */
export interface Actor {
  userId: string;
  userName: string;
  teamId: string;
  teamDomain: string;
  appId: string;
}

/** Slack sends a token in every payload; it was deprecated in favour of signing, and nothing checks it. */
const VERIFICATION_TOKEN = 'deprecated-verification-token';

// ---- signing --------------------------------------------------------------------------------------

/** Slack request signing v0: HMAC-SHA256(secret, `v0:${ts}:${rawBody}`), hex, prefixed "v0=". */
export function slackSignature(signingSecret: string, rawBody: string, tsSec: number): string {
  return 'v0=' + createHmac('sha256', signingSecret).update(`v0:${tsSec}:${rawBody}`).digest('hex');
}

export type SlackContentType = 'application/x-www-form-urlencoded' | 'application/json';

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** How to sign: a timestamp other than now (stale-request tests) or a forged signature. */
export interface SigningOptions {
  tsSec?: number;
  signature?: string;
}

/**
 * Headers as Slack sends them. The timestamp is wall-clock time even when the bot runs on a moved
 * clock: Bolt checks it against the real time (5 minutes), not the bot's. The content type is bare:
 * Bolt compares `application/x-www-form-urlencoded` with exact equality.
 */
export function signRequest(
  signingSecret: string,
  body: string,
  contentType: SlackContentType,
  signing: SigningOptions = {},
): SignedRequest {
  const tsSec = signing.tsSec ?? Math.floor(Date.now() / 1000);
  return {
    body,
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(tsSec),
      'x-slack-signature': signing.signature ?? slackSignature(signingSecret, body, tsSec),
    },
  };
}

export interface SlackHttpResult {
  status: number;
  /** The raw response body (Bolt acks with an empty body or a JSON one). */
  body: string;
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

/**
 * POSTs a signed body to the bot's request URL, as Slack does (no redirects followed). Network
 * failures and the timeout (Slack waits 3 s for an ack) reject; any HTTP answer resolves.
 */
export async function postSigned(
  url: string,
  signingSecret: string,
  body: string,
  contentType: SlackContentType,
  options: SigningOptions & { timeoutMs?: number } = {},
): Promise<SlackHttpResult> {
  const signed = signRequest(signingSecret, body, contentType, options);
  const response = await fetch(url, {
    method: 'POST',
    headers: signed.headers,
    body: signed.body,
    redirect: 'error',
    ...(options.timeoutMs !== undefined ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, body: text, json };
}

/** Interactivity payloads travel as one urlencoded field, `payload=<JSON>`. */
export function interactivityBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

// ---- payloads -------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function user(actor: Actor): Json {
  return { id: actor.userId, username: actor.userName, name: actor.userName, team_id: actor.teamId };
}

function team(actor: Actor): Json {
  return { id: actor.teamId, domain: actor.teamDomain };
}

/** A slash command: flat urlencoded fields, exactly the keys Slack sends. */
export function slashCommandBody(
  actor: Actor,
  input: {
    command: string;
    text: string;
    channelId: string;
    channelName: string;
    triggerId: string;
    responseUrl: string;
  },
): string {
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: actor.teamId,
    team_domain: actor.teamDomain,
    channel_id: input.channelId,
    channel_name: input.channelName,
    user_id: actor.userId,
    user_name: actor.userName,
    command: input.command,
    text: input.text,
    api_app_id: actor.appId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId,
  }).toString();
}

/** Where a block action happened: a message (with its response_url) or a view (modal or App Home). */
export type ActionContainer =
  | {
      type: 'message';
      channelId: string;
      channelName?: string;
      message: Json & { ts: string };
      isEphemeral: boolean;
      responseUrl?: string;
    }
  | { type: 'view'; view: Json & { id: string } };

function messageContainer(container: Extract<ActionContainer, { type: 'message' }>, payload: Json): void {
  payload.container = {
    type: 'message',
    message_ts: container.message.ts,
    channel_id: container.channelId,
    is_ephemeral: container.isEphemeral,
  };
  payload.channel = {
    id: container.channelId,
    ...(container.channelName !== undefined ? { name: container.channelName } : {}),
  };
  // Slack leaves the message out for ephemeral messages: the app never stored them.
  if (!container.isEphemeral) payload.message = container.message;
}

export function blockActionsPayload(
  actor: Actor,
  input: {
    container?: ActionContainer;
    action: Json;
    triggerId: string;
    stateValues?: Record<string, Record<string, Json>>;
  },
): Json {
  const payload: Json = {
    type: 'block_actions',
    user: user(actor),
    api_app_id: actor.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId,
    team: team(actor),
    enterprise: null,
    is_enterprise_install: false,
    actions: [input.action],
  };
  const container = input.container;
  if (container?.type === 'message') {
    messageContainer(container, payload);
    payload.state = { values: input.stateValues ?? {} };
    if (container.responseUrl !== undefined) payload.response_url = container.responseUrl;
  } else if (container?.type === 'view') {
    payload.container = { type: 'view', view_id: container.view.id };
    const state = container.view.state as { values?: unknown } | undefined;
    payload.view = { ...container.view, state: { values: input.stateValues ?? state?.values ?? {} } };
  }
  return payload;
}

export function viewSubmissionPayload(
  actor: Actor,
  input: {
    view: Json & { id: string };
    stateValues: Record<string, Record<string, unknown>>;
    triggerId: string;
  },
): Json {
  return {
    type: 'view_submission',
    team: team(actor),
    user: user(actor),
    api_app_id: actor.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId,
    view: { ...input.view, state: { values: input.stateValues } },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export function viewClosedPayload(actor: Actor, input: { view: Json & { id: string }; isCleared: boolean }): Json {
  return {
    type: 'view_closed',
    team: team(actor),
    user: user(actor),
    api_app_id: actor.appId,
    token: VERIFICATION_TOKEN,
    view: input.view,
    is_cleared: input.isCleared,
    is_enterprise_install: false,
    enterprise: null,
  };
}

export function blockSuggestionPayload(
  actor: Actor,
  input: {
    blockId: string;
    actionId: string;
    value: string;
    container?: ActionContainer;
  },
): Json {
  const payload: Json = {
    type: 'block_suggestion',
    user: user(actor),
    team: team(actor),
    api_app_id: actor.appId,
    token: VERIFICATION_TOKEN,
    action_id: input.actionId,
    block_id: input.blockId,
    value: input.value,
    action_ts: `${Date.now() / 1000}`,
    enterprise: null,
    is_enterprise_install: false,
  };
  const container = input.container;
  if (container?.type === 'view') {
    payload.container = { type: 'view', view_id: container.view.id };
    payload.view = container.view;
  } else if (container?.type === 'message') {
    messageContainer(container, payload);
  }
  return payload;
}

/** An Events API `event_callback` (sent as JSON), e.g. `app_home_opened`. */
export function eventCallbackBody(
  actor: Actor,
  botUserId: string,
  event: Json & { type: string },
  options: { nowSec?: number; eventId?: string } = {},
): string {
  const nowSec = options.nowSec ?? Math.floor(Date.now() / 1000);
  return JSON.stringify({
    token: VERIFICATION_TOKEN,
    team_id: actor.teamId,
    api_app_id: actor.appId,
    event: { event_ts: `${nowSec}.${String(randomInt(0, 1_000_000)).padStart(6, '0')}`, ...event },
    type: 'event_callback',
    event_id: options.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: nowSec,
    authorizations: [{ team_id: actor.teamId, user_id: botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}
