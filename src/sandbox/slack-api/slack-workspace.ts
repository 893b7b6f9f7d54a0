import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';

/**
 * The state of the stand-in's Slack workspace: people, channels, every message with its versions,
 * modal stacks, App Home tabs, uploaded files, trigger ids and response URLs. The Web API methods
 * change it; tests and the sandbox page read it and wait on its events.
 */

export interface SlackUser {
  id: string;
  email: string;
  name: string;
  realName: string;
  tz: string;
  isBot?: boolean;
  deleted?: boolean;
  /** The user's own team when it is not the workspace's (a Slack Connect user from another organisation). */
  teamId?: string;
  /** users.info `is_stranger`: a user from another organisation the workspace shares no channel with. */
  isStranger?: boolean;
}

export interface SlackChannel {
  id: string;
  name: string;
  /**
   * Posting to a public channel the bot was not invited to fails with `not_in_channel`; to a
   * private one, with `channel_not_found` (the bot cannot see it at all).
   */
  botIsMember: boolean;
  isPrivate: boolean;
  /** Archived: posting answers `is_archived`, updating `is_inactive`. */
  archived: boolean;
}

/** A channel as set up: the bot is a member of a public, unarchived channel unless said otherwise. */
export type NewChannel = Pick<SlackChannel, 'id' | 'name'> &
  Partial<Pick<SlackChannel, 'botIsMember' | 'isPrivate' | 'archived'>>;

export interface MessageVersion {
  text: string;
  blocks: unknown[];
  /** Clock time (ms) of this version. */
  at: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  /** Author: the bot user id for everything the bot posts. */
  user: string;
  /** Set for ephemeral messages: the only person who sees it. */
  ephemeralFor?: string;
  text: string;
  blocks: unknown[];
  /** Ids of files shared with this message. */
  files: string[];
  deleted: boolean;
  /** Every version, oldest first; the last one is what people see now. */
  versions: MessageVersion[];
  /** How it arrived: a Web API call or a response_url. */
  via: 'api' | 'response_url';
}

export type ViewType = 'modal' | 'home';

export interface StoredView {
  id: string;
  type: ViewType;
  userId: string;
  rootViewId: string;
  previousViewId: string | null;
  externalId: string;
  callbackId: string;
  privateMetadata: string;
  hash: string;
  /** `state.values[block_id][action_id]`, as a view_submission carries it. */
  state: { values: Record<string, Record<string, unknown>> };
  /** The view as last sent by the bot (title, blocks, submit, …). */
  definition: Record<string, unknown>;
  /** Every definition the bot sent, oldest first. */
  versions: Record<string, unknown>[];
  /** Closed views are kept for tests to read but can no longer be updated. */
  closed: boolean;
}

export interface StoredFile {
  id: string;
  filename: string;
  /** Length announced in files.getUploadURLExternal. */
  length: number;
  altText?: string;
  bytes?: Buffer;
  title?: string;
  channel?: string;
  initialComment?: string;
  threadTs?: string;
  /** The message that shared the file, once completed into a channel. */
  messageTs?: string;
  completed: boolean;
}

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  status: number;
  answer: unknown;
  at: number;
  /** A 429's Retry-After, in seconds. */
  retryAfterSeconds?: number;
  /** A 429's limit: `method:<name>` or `chat.postMessage:<channel>` (see rate-limits.ts). */
  rateKey?: string;
}

export interface ViewEvent {
  action: 'opened' | 'pushed' | 'updated' | 'closed';
  view: StoredView;
}

/** Event names and payloads: `on(name, listener)` and `waitFor(name, predicate)`. */
export interface StandInEvents {
  /** A new (non-ephemeral) message, from the Web API, a response_url or a file share. */
  message: StoredMessage;
  /** A new ephemeral message. */
  ephemeral: StoredMessage;
  /** A message got a new version (chat.update or replace_original). */
  update: StoredMessage;
  delete: StoredMessage;
  view: ViewEvent;
  /** An App Home tab was published. */
  home: StoredView;
  /** A file upload was completed (bytes and metadata stored). */
  file: StoredFile;
  /** Every Web API call, answered or failed. */
  call: ApiCall;
}

export type StandInEventName = keyof StandInEvents;

interface LoggedEvent {
  seq: number;
  name: StandInEventName;
  payload: unknown;
}

export interface ResponseTicket {
  id: string;
  channelId: string;
  userId: string;
  /** The message a block action came from: `replace_original` / `delete_original` act on it. */
  messageTs?: string;
  issuedAt: number;
  uses: number;
}

export interface TriggerRecord {
  userId: string;
  issuedAt: number;
  used: boolean;
}

export interface WorkspaceOptions {
  teamId?: string;
  teamName?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  /** Milliseconds since the epoch; injected so tests can expire triggers without sleeping. */
  clock?: () => number;
}

/** Kept so a long sandbox session does not grow without bound; tests use far fewer. */
const EVENT_LOG_LIMIT = 10_000;

export class SlackWorkspace {
  readonly teamId: string;
  readonly teamName: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  readonly now: () => number;

  private readonly users = new Map<string, SlackUser>();
  private readonly channels = new Map<string, SlackChannel>();
  private readonly messagesByChannel = new Map<string, StoredMessage[]>();
  private readonly views = new Map<string, StoredView>();
  /** Root view id -> the stack, bottom first. */
  private readonly stacks = new Map<string, string[]>();
  /** User -> root view id of the modal stack they see now. */
  private readonly openStack = new Map<string, string>();
  private readonly homes = new Map<string, string>();
  private readonly fileStore = new Map<string, StoredFile>();
  private readonly triggers = new Map<string, TriggerRecord>();
  private readonly responseTickets = new Map<string, ResponseTicket>();
  private readonly callLog: ApiCall[] = [];
  private readonly emitter = new EventEmitter();
  private readonly eventLog: LoggedEvent[] = [];
  private seq = 0;
  private tsCounter = 0;
  private idCounter = 0;

  constructor(options: WorkspaceOptions = {}) {
    this.teamId = options.teamId ?? 'T0SANDBOX';
    this.teamName = options.teamName ?? 'Sandbox';
    this.botUserId = options.botUserId ?? 'U0ACCESSBOT';
    this.botId = options.botId ?? 'B0ACCESSBOT';
    this.appId = options.appId ?? 'A0ACCESSBOT';
    this.now = options.clock ?? Date.now;
    this.emitter.setMaxListeners(0);
  }

  // ---- people and channels ------------------------------------------------------------------

  addUser(user: SlackUser): SlackUser {
    const stored = { isBot: false, deleted: false, ...user };
    this.users.set(user.id, stored);
    return stored;
  }

  user(id: string): SlackUser | undefined {
    return this.users.get(id);
  }

  userByEmail(email: string): SlackUser | undefined {
    const wanted = email.trim().toLowerCase();
    return [...this.users.values()].find((u) => u.email.toLowerCase() === wanted);
  }

  listUsers(): SlackUser[] {
    return [...this.users.values()];
  }

  addChannel(channel: NewChannel): SlackChannel {
    const stored = { botIsMember: true, isPrivate: false, archived: false, ...channel };
    this.channels.set(channel.id, stored);
    return stored;
  }

  channel(id: string): SlackChannel | undefined {
    return this.channels.get(id);
  }

  setBotMembership(channelId: string, isMember: boolean): void {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`no channel ${channelId}`);
    channel.botIsMember = isMember;
  }

  /** The stable DM channel id between the bot and a user: U0ALICE -> D0ALICE. */
  dmChannelId(userId: string): string {
    return `D${userId.slice(1)}`;
  }

  /**
   * Whether the bot can see a channel: a public one always, a private one only as a member.
   * Slack answers `channel_not_found` for one it cannot see, never `not_in_channel`.
   */
  visibleChannel(id: string): SlackChannel | undefined {
    const channel = this.channels.get(id);
    return channel && (!channel.isPrivate || channel.botIsMember) ? channel : undefined;
  }

  /** The user a DM channel belongs to, if that user exists. */
  dmUser(channelId: string): SlackUser | undefined {
    if (!channelId.startsWith('D')) return undefined;
    return [...this.users.values()].find((u) => this.dmChannelId(u.id) === channelId);
  }

  // ---- messages -----------------------------------------------------------------------------

  /** Message timestamps are unique and increase even while a fake clock stands still. */
  nextTs(): string {
    this.tsCounter += 1;
    return `${Math.floor(this.now() / 1000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  addMessage(
    message: Omit<StoredMessage, 'ts' | 'versions' | 'deleted' | 'files'> & { files?: string[] },
  ): StoredMessage {
    const stored: StoredMessage = {
      ...message,
      ts: this.nextTs(),
      files: message.files ?? [],
      deleted: false,
      versions: [{ text: message.text, blocks: message.blocks, at: this.now() }],
    };
    const list = this.messagesByChannel.get(stored.channel) ?? [];
    list.push(stored);
    this.messagesByChannel.set(stored.channel, list);
    this.emit(stored.ephemeralFor ? 'ephemeral' : 'message', stored);
    return stored;
  }

  updateMessage(message: StoredMessage, text: string, blocks: unknown[]): StoredMessage {
    message.text = text;
    message.blocks = blocks;
    message.versions.push({ text, blocks, at: this.now() });
    this.emit('update', message);
    return message;
  }

  deleteMessage(message: StoredMessage): void {
    message.deleted = true;
    this.emit('delete', message);
  }

  /** Messages in a channel or DM, oldest first; deleted and ephemeral ones only when asked. */
  messages(channelId: string, options: { includeDeleted?: boolean; includeEphemeral?: boolean } = {}): StoredMessage[] {
    return (this.messagesByChannel.get(channelId) ?? []).filter(
      (m) => (options.includeDeleted || !m.deleted) && (options.includeEphemeral || !m.ephemeralFor),
    );
  }

  /** The DM between the bot and a user, oldest first. */
  dmMessages(userId: string): StoredMessage[] {
    return this.messages(this.dmChannelId(userId));
  }

  /** Ephemeral messages shown to one person, in any channel, oldest first. */
  ephemeralsFor(userId: string): StoredMessage[] {
    return this.allMessages({ includeEphemeral: true }).filter((m) => m.ephemeralFor === userId);
  }

  allMessages(options: { includeDeleted?: boolean; includeEphemeral?: boolean } = {}): StoredMessage[] {
    return [...this.messagesByChannel.keys()]
      .flatMap((c) => this.messages(c, options))
      .sort((a, b) => compareTs(a.ts, b.ts));
  }

  findMessage(channelId: string, ts: string): StoredMessage | undefined {
    return (this.messagesByChannel.get(channelId) ?? []).find((m) => m.ts === ts && !m.deleted);
  }

  // ---- views --------------------------------------------------------------------------------

  newViewId(): string {
    return `V${this.nextId()}`;
  }

  newHash(): string {
    return `${Math.floor(this.now() / 1000)}.${randomBytes(4).toString('hex')}`;
  }

  storeView(view: StoredView): void {
    this.views.set(view.id, view);
  }

  view(id: string): StoredView | undefined {
    return this.views.get(id);
  }

  viewByExternalId(externalId: string): StoredView | undefined {
    return [...this.views.values()].find((v) => v.externalId === externalId && !v.closed);
  }

  /** The modal stack a user sees now, bottom first (empty when no modal is open). */
  modalStack(userId: string): StoredView[] {
    const root = this.openStack.get(userId);
    if (!root) return [];
    return (this.stacks.get(root) ?? []).map((id) => this.views.get(id)).filter((v): v is StoredView => !!v);
  }

  /** The modal on top of a user's stack. */
  currentModal(userId: string): StoredView | undefined {
    return this.modalStack(userId).at(-1);
  }

  /** Opens a new stack for the user; whatever they had open is closed. */
  openModal(view: StoredView): void {
    this.closeModals(view.userId);
    this.stacks.set(view.id, [view.id]);
    this.openStack.set(view.userId, view.id);
    this.views.set(view.id, view);
    this.emit('view', { action: 'opened', view });
  }

  pushModal(view: StoredView): void {
    this.stacks.get(view.rootViewId)?.push(view.id);
    this.views.set(view.id, view);
    this.emit('view', { action: 'pushed', view });
  }

  viewUpdated(view: StoredView): void {
    if (view.type === 'home') this.emit('home', view);
    else this.emit('view', { action: 'updated', view });
  }

  /** What a person closing the top modal (or a `response_action: clear`) does. */
  closeTopModal(userId: string): void {
    const stack = this.modalStack(userId);
    const top = stack.at(-1);
    if (!top) return;
    top.closed = true;
    this.stacks.get(top.rootViewId)?.pop();
    if (stack.length === 1) this.openStack.delete(userId);
    this.emit('view', { action: 'closed', view: top });
  }

  closeModals(userId: string): void {
    while (this.modalStack(userId).length > 0) this.closeTopModal(userId);
  }

  /** Sets what a person typed or picked, as `view.state.values[blockId][actionId]`. */
  setViewState(viewId: string, blockId: string, actionId: string, value: Record<string, unknown>): void {
    const view = this.views.get(viewId);
    if (!view) throw new Error(`no view ${viewId}`);
    view.state.values[blockId] = { ...view.state.values[blockId], [actionId]: value };
  }

  homeView(userId: string): StoredView | undefined {
    const id = this.homes.get(userId);
    return id ? this.views.get(id) : undefined;
  }

  publishHome(view: StoredView): void {
    this.views.set(view.id, view);
    this.homes.set(view.userId, view.id);
    this.emit('home', view);
  }

  // ---- files --------------------------------------------------------------------------------

  newFile(filename: string, length: number, altText?: string): StoredFile {
    const file: StoredFile = { id: `F${this.nextId()}`, filename, length, completed: false };
    if (altText !== undefined) file.altText = altText;
    this.fileStore.set(file.id, file);
    return file;
  }

  file(id: string): StoredFile | undefined {
    return this.fileStore.get(id);
  }

  /** Completed uploads, oldest first. */
  files(): StoredFile[] {
    return [...this.fileStore.values()].filter((f) => f.completed);
  }

  fileCompleted(file: StoredFile): void {
    file.completed = true;
    this.emit('file', file);
  }

  // ---- trigger ids and response URLs ----------------------------------------------------------

  /** A trigger id as Slack puts in an interaction payload: valid once, within 3 seconds. */
  issueTriggerId(userId: string): string {
    const id = `${this.nextId()}.${Math.floor(this.now() / 1000)}.${randomBytes(8).toString('hex')}`;
    this.triggers.set(id, { userId, issuedAt: this.now(), used: false });
    return id;
  }

  trigger(id: string): TriggerRecord | undefined {
    return this.triggers.get(id);
  }

  issueResponseTicket(target: { channelId: string; userId: string; messageTs?: string }): ResponseTicket {
    const ticket: ResponseTicket = { id: randomBytes(12).toString('hex'), ...target, issuedAt: this.now(), uses: 0 };
    this.responseTickets.set(ticket.id, ticket);
    return ticket;
  }

  responseTicket(id: string): ResponseTicket | undefined {
    return this.responseTickets.get(id);
  }

  // ---- calls and events ---------------------------------------------------------------------

  recordCall(call: ApiCall): void {
    this.callLog.push(call);
    if (this.callLog.length > EVENT_LOG_LIMIT) this.callLog.shift();
    this.emit('call', call);
  }

  /** Web API calls in arrival order, optionally only one method's. */
  calls(method?: string): ApiCall[] {
    return method ? this.callLog.filter((c) => c.method === method) : [...this.callLog];
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends StandInEventName>(event: E, listener: (payload: StandInEvents[E]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  /** The number of the latest event; pass it as `after` to wait only for later ones. */
  cursor(): number {
    return this.seq;
  }

  /**
   * Resolves with the first event of that name that satisfies the predicate, looking at events
   * already recorded (after `after`) before waiting for new ones, so a test never misses an
   * event that happened before it started to wait. Rejects after `timeoutMs`.
   */
  waitFor<E extends StandInEventName>(
    event: E,
    predicate: (payload: StandInEvents[E]) => boolean = () => true,
    options: { timeoutMs?: number; after?: number } = {},
  ): Promise<StandInEvents[E]> {
    const { timeoutMs = 5000, after = 0 } = options;
    const past = this.eventLog.find(
      (e) => e.seq > after && e.name === event && predicate(e.payload as StandInEvents[E]),
    );
    if (past) return Promise.resolve(past.payload as StandInEvents[E]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        const seen =
          this.eventLog
            .filter((e) => e.seq > after)
            .map((e) => e.name)
            .join(', ') || 'none';
        reject(new Error(`waitFor('${event}') timed out after ${timeoutMs} ms; events seen: ${seen}`));
      }, timeoutMs);
      const unsubscribe = this.on(event, (payload) => {
        if (!predicate(payload)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(payload);
      });
    });
  }

  private emit<E extends StandInEventName>(name: E, payload: StandInEvents[E]): void {
    this.seq += 1;
    this.eventLog.push({ seq: this.seq, name, payload });
    if (this.eventLog.length > EVENT_LOG_LIMIT) this.eventLog.shift();
    this.emitter.emit(name, payload);
  }

  private nextId(): string {
    this.idCounter += 1;
    return `0${this.idCounter.toString(36).toUpperCase().padStart(7, '0')}`;
  }
}

function compareTs(a: string, b: string): number {
  const [as = '0', af = '0'] = a.split('.');
  const [bs = '0', bf = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(af) - Number(bf);
}
