import { randomBytes } from 'node:crypto';
import {
  blockActionsPayload,
  blockSuggestionPayload,
  eventCallbackBody,
  interactivityBody,
  postSigned as post,
  slackSignature,
  slashCommandBody,
  viewSubmissionPayload,
  type Actor,
  type SigningOptions,
  type SlackContentType,
  type SlackHttpResult,
} from '../../src/sandbox/slack-requests.js';

/**
 * Requests shaped and signed exactly as Slack sends them to a bot (TECH-NOTES §2), for tests
 * that drive the bot over HTTP. The shapes and the signing are the sandbox page's own
 * (`src/sandbox/slack-requests.ts`): one builder for both. Trigger ids and response URLs come from
 * the Slack stand-in (`standIn.issueTriggerId(userId)`, `standIn.issueResponseUrl(...)`) so the
 * bot's follow-up calls land there.
 */

export type { SigningOptions, SlackHttpResult };

/** Slack request signing v0: HMAC-SHA256(secret, `v0:${ts}:${rawBody}`), hex, prefixed "v0=". */
export function slackSignatureHeaders(
  signingSecret: string,
  rawBody: string,
  tsSec = Math.floor(Date.now() / 1000),
): { 'X-Slack-Request-Timestamp': string; 'X-Slack-Signature': string } {
  return {
    'X-Slack-Request-Timestamp': String(tsSec),
    'X-Slack-Signature': slackSignature(signingSecret, rawBody, tsSec),
  };
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
export function postSigned(
  botUrl: string,
  secret: string,
  rawBody: string,
  contentType: SlackContentType,
  signing: SigningOptions = {},
): Promise<SlackHttpResult> {
  return post(slackEventsUrl(botUrl), secret, rawBody, contentType, signing);
}

function postPayload(
  botUrl: string,
  secret: string,
  payload: Record<string, unknown>,
  signing?: SigningOptions,
): Promise<SlackHttpResult> {
  return postSigned(botUrl, secret, interactivityBody(payload), 'application/x-www-form-urlencoded', signing);
}

const DEFAULT_APP_ID = 'A0ACCESSBOT';
const DEFAULT_TEAM_ID = 'T0SANDBOX';

function actorFor(userId: string, teamId = DEFAULT_TEAM_ID, userName = userId.toLowerCase()): Actor {
  return { userId, userName, teamId, teamDomain: 'sandbox', appId: DEFAULT_APP_ID };
}

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
export function sendSlashCommand(
  botUrl: string,
  secret: string,
  input: SlashCommandInput,
  signing?: SigningOptions,
): Promise<SlackHttpResult> {
  const rawBody = slashCommandBody(actorFor(input.userId, input.teamId, input.userName), {
    command: input.command ?? '/access',
    text: input.text ?? '',
    channelId: input.channelId ?? 'C0GENERAL',
    channelName: input.channelName ?? 'general',
    responseUrl: input.responseUrl ?? 'http://127.0.0.1:9/response/none',
    triggerId: input.triggerId ?? unissuedTriggerId(),
  });
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
export function sendBlockAction(
  botUrl: string,
  secret: string,
  input: BlockActionInput,
  signing?: SigningOptions,
): Promise<SlackHttpResult> {
  const action = {
    type: 'button',
    action_id: input.actionId,
    block_id: input.blockId ?? 'actions',
    ...(input.value !== undefined ? { value: input.value } : {}),
    action_ts: `${Math.floor(Date.now() / 1000)}.000100`,
    ...input.action,
  };
  const m = input.message;
  const container = input.view
    ? { type: 'view' as const, view: input.view }
    : m
      ? {
          type: 'message' as const,
          channelId: m.channelId,
          isEphemeral: m.isEphemeral ?? false,
          message: { type: 'message', ts: m.ts, text: m.text ?? '', blocks: m.blocks ?? [] },
          ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}),
        }
      : undefined;
  const payload = blockActionsPayload(actorFor(input.userId, input.teamId), {
    ...(container ? { container } : {}),
    action,
    triggerId: input.triggerId ?? unissuedTriggerId(),
  });
  if (input.userTeamId !== undefined) {
    // A Slack Connect user: their own team differs from the payload's (or is not given at all).
    const user = { ...(payload.user as Record<string, unknown>) };
    if (input.userTeamId === null) delete user.team_id;
    else user.team_id = input.userTeamId;
    payload.user = user;
  }
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
export function sendViewSubmission(
  botUrl: string,
  secret: string,
  input: ViewSubmissionInput,
  signing?: SigningOptions,
): Promise<SlackHttpResult> {
  const state = input.view.state as { values?: Record<string, Record<string, unknown>> } | undefined;
  const values = { ...state?.values };
  for (const [blockId, actions] of Object.entries(input.values ?? {}))
    values[blockId] = { ...values[blockId], ...actions };
  return postPayload(
    botUrl,
    secret,
    viewSubmissionPayload(actorFor(input.userId, input.teamId), {
      view: input.view,
      stateValues: values,
      triggerId: input.triggerId ?? unissuedTriggerId(),
    }),
    signing,
  );
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
export function sendBlockSuggestion(
  botUrl: string,
  secret: string,
  input: BlockSuggestionInput,
  signing?: SigningOptions,
): Promise<SlackHttpResult> {
  return postPayload(
    botUrl,
    secret,
    blockSuggestionPayload(actorFor(input.userId, input.teamId), {
      blockId: input.blockId,
      actionId: input.actionId,
      value: input.value,
      ...(input.view ? { container: { type: 'view' as const, view: input.view } } : {}),
    }),
    signing,
  );
}

export interface EventInput {
  teamId?: string;
  /** The inner event, e.g. `{type: 'app_home_opened', user: 'U1', tab: 'home', channel: 'D1'}`. */
  event: Record<string, unknown> & { type: string };
  eventId?: string;
}

/** An Events API `event_callback`, sent as JSON. */
export function sendEvent(
  botUrl: string,
  secret: string,
  input: EventInput,
  signing?: SigningOptions,
): Promise<SlackHttpResult> {
  const actor = actorFor('U0NOBODY', input.teamId);
  const rawBody = eventCallbackBody(actor, 'U0ACCESSBOT', input.event, input.eventId ? { eventId: input.eventId } : {});
  return postSigned(botUrl, secret, rawBody, 'application/json', signing);
}
