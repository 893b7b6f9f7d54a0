import {
  BLOCK_KIT_LIMITS,
  blockTextLength,
  checkMessageBlocks,
  checkView,
  describeProblem,
  viewByteLength,
  type BlockKitProblem,
} from './block-kit-limits.js';
import type { SlackUser, SlackWorkspace, StoredMessage, StoredView, ViewType } from './slack-workspace.js';

/**
 * The Web API methods the bot calls, answered the way Slack answers them. Error codes come from
 * the method pages (api.slack.com/methods/*, docs.slack.dev/reference/methods/*) and the
 * slack-ruby/slack-api-ref method files; see TECH-NOTES §7.
 */

/** A platform error: HTTP 200 with `{ok:false, error: code, ...extra}`. */
export class SlackPlatformError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
    this.name = 'SlackPlatformError';
  }
}

export interface MethodContext {
  ws: SlackWorkspace;
  /** Origin of the stand-in (http://127.0.0.1:P), for the upload URLs it hands out. */
  origin: string;
}

export type MethodAnswer = Record<string, unknown>;
type MethodHandler = (args: Args, ctx: MethodContext) => MethodAnswer;

/** Typed access to the form fields of one call. */
export class Args {
  constructor(readonly raw: Record<string, unknown>) {}

  string(name: string): string | undefined {
    const value = this.raw[name];
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return undefined;
  }

  /** A field that is JSON in a form body (`blocks`, `view`, `files`) or already an object in a JSON body. */
  json(name: string, badFormatError = 'invalid_arguments'): unknown {
    const value = this.raw[name];
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      throw new SlackPlatformError(badFormatError, {
        response_metadata: { messages: [`[ERROR] invalid JSON in \`${name}\``] },
      });
    }
  }
}

function missing(name: string): SlackPlatformError {
  return new SlackPlatformError('invalid_arguments', {
    response_metadata: { messages: [`[ERROR] missing required field: ${name}`] },
  });
}

// ---- answers: the JSON shapes Slack returns -----------------------------------------------------

export function apiUser(user: SlackUser, teamId: string): MethodAnswer {
  return {
    id: user.id,
    team_id: user.teamId ?? teamId,
    name: user.name,
    deleted: user.deleted ?? false,
    real_name: user.realName,
    tz: user.tz,
    is_bot: user.isBot ?? false,
    is_email_confirmed: true,
    ...(user.isStranger ? { is_stranger: true } : {}),
    profile: { email: user.email, real_name: user.realName, display_name: user.name },
  };
}

export function apiMessage(message: StoredMessage, ws: SlackWorkspace): MethodAnswer {
  return {
    type: 'message',
    user: message.user,
    bot_id: ws.botId,
    app_id: ws.appId,
    team: ws.teamId,
    text: message.text,
    blocks: message.blocks,
    ts: message.ts,
    ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
    ...(message.files.length ? { files: message.files.map((id) => ({ id })) } : {}),
  };
}

/** The view as the Web API answers it, and as interaction payloads carry it. */
export function apiView(view: StoredView, ws: SlackWorkspace): MethodAnswer & { id: string } {
  return {
    ...view.definition,
    id: view.id,
    team_id: ws.teamId,
    type: view.type,
    blocks: view.definition.blocks ?? [],
    private_metadata: view.privateMetadata,
    callback_id: view.callbackId,
    external_id: view.externalId,
    state: view.state,
    hash: view.hash,
    root_view_id: view.rootViewId,
    previous_view_id: view.previousViewId,
    app_id: ws.appId,
    bot_id: ws.botId,
  };
}

// ---- shared checks -------------------------------------------------------------------------------

/**
 * Message blocks Slack would refuse give `invalid_blocks` with `errors` and `[ERROR]` messages.
 * Blocks that are each valid but carry more than 12,000 characters of text in all give
 * `msg_blocks_too_long` (chat.postMessage docs, SLK-REF: "Blocks submitted with this message are too
 * long"; the number is from slackapi/bolt-js#2509 and #2867: "12,000 text characters", rejected at
 * 11.3k–13.3k). Slack does not document it for chat.update and chat.postEphemeral; the stand-in
 * applies it to every message, since an update stores the same blocks.
 */
function messageBlocks(args: Args): unknown[] | undefined {
  const blocks = args.json('blocks', 'invalid_blocks_format');
  if (blocks === undefined) return undefined;
  const problems = checkMessageBlocks(blocks);
  if (problems.length > 0) {
    const errors = problems.map(describeProblem);
    throw new SlackPlatformError('invalid_blocks', {
      errors,
      response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
    });
  }
  if (blockTextLength(blocks) > BLOCK_KIT_LIMITS.messageBlocksText) throw new SlackPlatformError('msg_blocks_too_long');
  return blocks as unknown[];
}

/** Views Slack would refuse give `invalid_arguments` with `[ERROR]` messages (no `errors` field). */
function viewArgument(args: Args, surface: ViewType): Record<string, unknown> {
  const view = args.json('view');
  if (view === undefined) throw missing('view');
  if (viewByteLength(view) > BLOCK_KIT_LIMITS.viewBytes) throw new SlackPlatformError('view_too_large');
  const problems: BlockKitProblem[] = checkView(view, surface);
  if (problems.length > 0) {
    throw new SlackPlatformError('invalid_arguments', {
      response_metadata: { messages: problems.map((p) => `[ERROR] ${describeProblem(p)}`) },
    });
  }
  return view as Record<string, unknown>;
}

/**
 * chat.postMessage truncates `text` over 40,000 characters and says so in a warning
 * (https://api.slack.com/changelog/2018-04-truncating-really-long-messages).
 */
function messageText(args: Args): { text: string | undefined; warning?: string } {
  const text = args.string('text');
  if (text === undefined || text.length <= BLOCK_KIT_LIMITS.messageText) return { text };
  return { text: text.slice(0, BLOCK_KIT_LIMITS.messageText), warning: 'message_truncated' };
}

/**
 * chat.update and chat.postEphemeral refuse a long `text` instead: `msg_too_long`. chat.update
 * documents the number ("The `text` field cannot exceed 4,000 characters", SLK-REF chat.update.json;
 * the same page's `message_truncated` warning still names 40,000, so nothing promises truncation);
 * chat.postEphemeral documents only the error ("Message text is too long"), so the stand-in uses
 * chat.postMessage's 40,000 there.
 */
function strictText(args: Args, max: number): string | undefined {
  const text = args.string('text');
  if (text !== undefined && text.length > max) throw new SlackPlatformError('msg_too_long');
  return text;
}

function withWarning(answer: MethodAnswer, warning: string | undefined): MethodAnswer {
  return warning ? { ...answer, warning, response_metadata: { warnings: [warning] } } : answer;
}

/**
 * Where chat.postMessage / chat.postEphemeral post: a user id means the DM with that user; a DM
 * id must belong to a known user; a channel must exist and have the bot as a member. A private
 * channel the bot is not in is invisible to it: `channel_not_found`, not `not_in_channel` (Slack
 * resolves the channel only when it can see it; getsentry/sentry#119600, mishk0/slack-bot-api#97).
 */
function postingChannel(ws: SlackWorkspace, channel: string | undefined): string {
  if (!channel) throw new SlackPlatformError('channel_not_found');
  if (channel.startsWith('U') || channel.startsWith('W')) {
    if (!ws.user(channel)) throw new SlackPlatformError('channel_not_found');
    return ws.dmChannelId(channel);
  }
  if (channel.startsWith('D')) {
    if (!ws.dmUser(channel)) throw new SlackPlatformError('channel_not_found');
    return channel;
  }
  const known = ws.visibleChannel(channel);
  if (!known) throw new SlackPlatformError('channel_not_found');
  if (known.archived) throw new SlackPlatformError('is_archived');
  if (!known.botIsMember) throw new SlackPlatformError('not_in_channel');
  return channel;
}

/**
 * chat.update and chat.delete need the conversation id the post returned: a user id is not
 * resolved to the DM (the bot must keep the D… id), so a bot that stores the wrong id fails here
 * as it would against Slack.
 */
function existingBotMessage(ws: SlackWorkspace, args: Args, notMine: string): StoredMessage {
  const channel = args.string('channel');
  const ts = args.string('ts');
  const visible = channel && (ws.visibleChannel(channel) || ws.dmUser(channel));
  if (!channel || !visible) throw new SlackPlatformError('channel_not_found');
  // "The message cannot be edited within a frozen, archived or deleted channel" (chat.update, SLK-REF).
  if (ws.channel(channel)?.archived) throw new SlackPlatformError('is_inactive');
  const message = ts ? ws.findMessage(channel, ts) : undefined;
  if (!message || message.ephemeralFor) throw new SlackPlatformError('message_not_found');
  if (message.user !== ws.botUserId) throw new SlackPlatformError(notMine);
  return message;
}

/** A trigger id is good once, for 3 seconds (TECH-NOTES §5; views.push docs: `exchanged_trigger_id`). */
function exchangeTrigger(ws: SlackWorkspace, args: Args): string {
  const id = args.string('trigger_id') ?? args.string('interactivity_pointer');
  if (!id) throw missing('trigger_id');
  const trigger = ws.trigger(id);
  if (!trigger) throw new SlackPlatformError('invalid_trigger_id');
  if (trigger.used) throw new SlackPlatformError('exchanged_trigger_id');
  if (ws.now() - trigger.issuedAt > 3000) throw new SlackPlatformError('expired_trigger_id');
  trigger.used = true;
  return trigger.userId;
}

export function newView(
  ws: SlackWorkspace,
  definition: Record<string, unknown>,
  init: {
    userId: string;
    type: ViewType;
    rootViewId?: string;
    previousViewId?: string | null;
    id?: string;
  },
): StoredView {
  const id = init.id ?? ws.newViewId();
  return {
    id,
    type: init.type,
    userId: init.userId,
    rootViewId: init.rootViewId ?? id,
    previousViewId: init.previousViewId ?? null,
    externalId: stringField(definition.external_id),
    callbackId: stringField(definition.callback_id),
    privateMetadata: stringField(definition.private_metadata),
    hash: ws.newHash(),
    state: { values: {} },
    definition,
    versions: [definition],
    closed: false,
  };
}

function stringField(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function assertExternalIdFree(ws: SlackWorkspace, definition: Record<string, unknown>, exceptViewId?: string): void {
  const externalId = stringField(definition.external_id);
  const holder = externalId ? ws.viewByExternalId(externalId) : undefined;
  if (holder && holder.id !== exceptViewId) throw new SlackPlatformError('duplicate_external_id');
}

/** A new definition replaces the old; typed state is kept for inputs whose block still exists. */
export function redefine(ws: SlackWorkspace, view: StoredView, definition: Record<string, unknown>): void {
  const blockIds = new Set(
    (Array.isArray(definition.blocks) ? definition.blocks : [])
      .map((b: unknown) => (typeof b === 'object' && b !== null ? (b as Record<string, unknown>).block_id : undefined))
      .filter((id): id is string => typeof id === 'string'),
  );
  view.definition = definition;
  view.versions.push(definition);
  view.externalId = stringField(definition.external_id);
  view.callbackId = stringField(definition.callback_id);
  view.privateMetadata = stringField(definition.private_metadata);
  view.hash = ws.newHash();
  view.state.values = Object.fromEntries(
    Object.entries(view.state.values).filter(([blockId]) => blockIds.has(blockId)),
  );
}

// ---- the methods ------------------------------------------------------------------------------------

const PUSH_LIMIT = 3; // "After a modal is opened, the app is limited to pushing 2 additional views." (views.push docs)

export const WEB_API_METHODS: Readonly<Record<string, MethodHandler>> = {
  'auth.test': (_args, { ws }) => ({
    url: `https://${ws.teamName.toLowerCase()}.slack.com/`,
    team: ws.teamName,
    user: 'access-bot',
    team_id: ws.teamId,
    user_id: ws.botUserId,
    bot_id: ws.botId,
    is_enterprise_install: false,
  }),

  'users.info': (args, { ws }) => {
    const user = ws.user(args.string('user') ?? '');
    if (!user) throw new SlackPlatformError('user_not_found');
    return { user: apiUser(user, ws.teamId) };
  },

  'users.lookupByEmail': (args, { ws }) => {
    const user = ws.userByEmail(args.string('email') ?? '');
    if (!user) throw new SlackPlatformError('users_not_found');
    return { user: apiUser(user, ws.teamId) };
  },

  'conversations.open': (args, { ws }) => {
    const users = (args.string('users') ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    if (users.length === 0) throw new SlackPlatformError('users_list_not_supplied');
    // The stand-in has no group DMs (the bot never opens one); it refuses rather than pretends.
    if (users.length > 1) throw new SlackPlatformError('not_supported');
    const user = ws.user(users[0] ?? '');
    if (!user) throw new SlackPlatformError('user_not_found');
    // "A specified `user` has been disabled" (conversations.open, SLK-REF): a deactivated account.
    if (user.deleted) throw new SlackPlatformError('user_disabled');
    if (user.isBot) throw new SlackPlatformError('cannot_dm_bot');
    return { channel: { id: ws.dmChannelId(user.id) } };
  },

  /**
   * The bot's view of one conversation (channels:read / groups:read). A private channel the bot
   * is not in is `channel_not_found`, as for posting; a public one says whether the bot is a member.
   */
  'conversations.info': (args, { ws }) => {
    const id = args.string('channel');
    if (!id) throw new SlackPlatformError('channel_not_found');
    const dmOwner = ws.dmUser(id);
    if (dmOwner) return { channel: { id, is_im: true, user: dmOwner.id, is_open: true } };
    const channel = ws.visibleChannel(id);
    if (!channel) throw new SlackPlatformError('channel_not_found');
    return {
      channel: {
        id: channel.id,
        name: channel.name,
        is_channel: !channel.isPrivate,
        is_group: false,
        is_im: false,
        is_mpim: false,
        is_private: channel.isPrivate,
        is_archived: channel.archived,
        is_member: channel.botIsMember,
      },
    };
  },

  'chat.postMessage': (args, { ws }) => {
    const channel = postingChannel(ws, args.string('channel'));
    const blocks = messageBlocks(args);
    const { text, warning } = messageText(args);
    if (text === undefined && blocks === undefined) throw new SlackPlatformError('no_text');
    const threadTs = args.string('thread_ts');
    const message = ws.addMessage({
      channel,
      user: ws.botUserId,
      text: text ?? '',
      blocks: blocks ?? [],
      via: 'api',
      ...(threadTs ? { threadTs } : {}),
    });
    return withWarning({ channel, ts: message.ts, message: apiMessage(message, ws) }, warning);
  },

  'chat.update': (args, { ws }) => {
    const message = existingBotMessage(ws, args, 'cant_update_message');
    const blocks = messageBlocks(args);
    const text = strictText(args, BLOCK_KIT_LIMITS.updateText);
    // chat.update docs: fields left out keep their previous value; an empty array removes blocks.
    ws.updateMessage(message, text ?? message.text, blocks ?? message.blocks);
    return { channel: message.channel, ts: message.ts, text: message.text, message: apiMessage(message, ws) };
  },

  'chat.postEphemeral': (args, { ws }) => {
    const userId = args.string('user');
    if (!userId || !ws.user(userId)) throw new SlackPlatformError('user_not_found');
    const channel = postingChannel(ws, args.string('channel'));
    const dmOwner = ws.dmUser(channel);
    if (dmOwner && dmOwner.id !== userId) throw new SlackPlatformError('user_not_in_channel');
    const blocks = messageBlocks(args);
    const text = strictText(args, BLOCK_KIT_LIMITS.messageText);
    if (text === undefined && blocks === undefined) throw new SlackPlatformError('no_text');
    const threadTs = args.string('thread_ts');
    const message = ws.addMessage({
      channel,
      user: ws.botUserId,
      ephemeralFor: userId,
      text: text ?? '',
      blocks: blocks ?? [],
      via: 'api',
      ...(threadTs ? { threadTs } : {}),
    });
    return { message_ts: message.ts };
  },

  'chat.delete': (args, { ws }) => {
    const message = existingBotMessage(ws, args, 'cant_delete_message');
    ws.deleteMessage(message);
    return { channel: message.channel, ts: message.ts };
  },

  'views.open': (args, { ws }) => {
    const definition = viewArgument(args, 'modal');
    assertExternalIdFree(ws, definition);
    const userId = exchangeTrigger(ws, args);
    const view = newView(ws, definition, { userId, type: 'modal' });
    ws.openModal(view);
    return { view: apiView(view, ws) };
  },

  'views.push': (args, { ws }) => {
    const definition = viewArgument(args, 'modal');
    assertExternalIdFree(ws, definition);
    const userId = exchangeTrigger(ws, args);
    const stack = ws.modalStack(userId);
    const top = stack.at(-1);
    // Pushing needs a trigger from inside an open modal.
    if (!top) throw new SlackPlatformError('not_found');
    if (stack.length >= PUSH_LIMIT) throw new SlackPlatformError('push_limit_reached');
    const view = newView(ws, definition, { userId, type: 'modal', rootViewId: top.rootViewId, previousViewId: top.id });
    ws.pushModal(view);
    return { view: apiView(view, ws) };
  },

  'views.update': (args, { ws }) => {
    const viewId = args.string('view_id');
    const externalId = args.string('external_id');
    if (!viewId && !externalId) throw missing('view_id');
    const view = viewId ? ws.view(viewId) : ws.viewByExternalId(externalId ?? '');
    if (!view || view.closed) throw new SlackPlatformError('not_found');
    const definition = viewArgument(args, view.type);
    assertExternalIdFree(ws, definition, view.id);
    const hash = args.string('hash');
    // The hash guards against a race between two updates of the same view (views.update docs).
    if (hash && hash !== view.hash) throw new SlackPlatformError('hash_conflict');
    redefine(ws, view, definition);
    ws.viewUpdated(view);
    return { view: apiView(view, ws) };
  },

  'views.publish': (args, { ws }) => {
    const userId = args.string('user_id');
    if (!userId) throw missing('user_id');
    if (!ws.user(userId)) throw new SlackPlatformError('user_not_found');
    const definition = viewArgument(args, 'home');
    const existing = ws.homeView(userId);
    const hash = args.string('hash');
    if (existing && hash && hash !== existing.hash) throw new SlackPlatformError('hash_conflict');
    if (existing) {
      redefine(ws, existing, definition);
      ws.publishHome(existing);
      return { view: apiView(existing, ws) };
    }
    const view = newView(ws, definition, { userId, type: 'home' });
    ws.publishHome(view);
    return { view: apiView(view, ws) };
  },

  'files.getUploadURLExternal': (args, { ws, origin }) => {
    const filename = args.string('filename');
    const length = Number(args.string('length'));
    if (!filename) throw missing('filename');
    if (!Number.isInteger(length) || length < 0) throw missing('length');
    const file = ws.newFile(filename, length, args.string('alt_txt') ?? args.string('alt_text'));
    return { upload_url: `${origin}/upload/${file.id}`, file_id: file.id };
  },

  'files.completeUploadExternal': (args, { ws }) => {
    const entries = args.json('files');
    if (!Array.isArray(entries) || entries.length === 0) throw missing('files');
    const files = entries.map((entry: unknown) => {
      const { id, title } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
      const file = typeof id === 'string' ? ws.file(id) : undefined;
      // Bytes must have reached the upload URL first.
      if (!file || !file.bytes || file.completed) throw new SlackPlatformError('file_not_found');
      return { file, title: typeof title === 'string' ? title : file.filename };
    });
    const channelId = args.string('channel_id') ?? args.string('channels')?.split(',')[0];
    let channel: string | undefined;
    if (channelId) {
      // channel_id is a conversation id; a user id is not resolved to the DM here
      // ("invalid_channel: Channel could not be found or channel specified is invalid").
      if (!ws.channel(channelId) && !ws.dmUser(channelId)) throw new SlackPlatformError('invalid_channel');
      // A private channel the bot is not in: "Value passed for `channel_id` was invalid" (SLK-REF).
      if (!ws.dmUser(channelId) && !ws.visibleChannel(channelId)) throw new SlackPlatformError('channel_not_found');
      if (ws.channel(channelId)?.botIsMember === false) throw new SlackPlatformError('not_in_channel');
      channel = channelId;
    }
    const initialComment = args.string('initial_comment');
    const threadTs = args.string('thread_ts');
    const message = channel
      ? ws.addMessage({
          channel,
          user: ws.botUserId,
          text: initialComment ?? '',
          blocks: [],
          via: 'api',
          files: files.map(({ file }) => file.id),
          ...(threadTs ? { threadTs } : {}),
        })
      : undefined;
    for (const { file, title } of files) {
      file.title = title;
      if (channel) file.channel = channel;
      if (initialComment !== undefined) file.initialComment = initialComment;
      if (threadTs) file.threadTs = threadTs;
      if (message) file.messageTs = message.ts;
      ws.fileCompleted(file);
    }
    return {
      files: files.map(({ file }) => ({
        id: file.id,
        name: file.filename,
        title: file.title,
        size: file.bytes?.length ?? 0,
        channels: channel ? [channel] : [],
      })),
    };
  },
};
