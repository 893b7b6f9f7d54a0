/**
 * The workspace as the sandbox page shows it: the people to pick from, and for one person what
 * Slack would show them (their DM with the bot, the bot's channels with their ephemerals, their
 * App Home, their modal stack), plus the problems Slack would have reported (a call it would
 * refuse, a request the bot did not answer). Reads the Slack stand-in's workspace; changes nothing
 * in it but the people and channels it must hold.
 */
import type { ApiCall, SlackWorkspace, StoredFile, StoredMessage } from './slack-api/slack-workspace.js';
import { apiView } from './slack-api/web-api-methods.js';
import {
  BOT_NAME,
  HttpError,
  type Json,
  type SandboxChannel,
  type SandboxPerson,
  type SandboxProblem,
  type SandboxServerOptions,
} from './sandbox-types.js';

const PROBLEMS_KEPT = 200;
/** Bot times kept per message: enough for a long session, bounded. */
const BOT_TIMES_KEPT = 20_000;
/** Errors worth showing a person trying the bot: Slack would refuse what the app sent, or where. */
const REPORTED_ERRORS = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_arguments',
  'view_too_large',
  'msg_too_long',
  'no_text',
  'not_in_channel',
  'channel_not_found',
  'invalid_channel',
  'push_limit_reached',
  'duplicate_external_id',
  'expired_trigger_id',
  'exchanged_trigger_id',
  'invalid_trigger_id',
  'message_not_found',
  'cant_update_message',
  'msg_blocks_too_long',
]);
const LAYOUT_ERRORS = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_arguments',
  'view_too_large',
  'msg_too_long',
  'no_text',
  'msg_blocks_too_long',
]);

export class WorkspaceView {
  readonly ws: SlackWorkspace;
  private readonly people = new Map<string, SandboxPerson>();
  private readonly channels: SandboxChannel[];
  private readonly problems: SandboxProblem[] = [];
  /** `${channel}:${ts}` -> the bot's clock when the message arrived (the page shows bot time). */
  private readonly botTimes = new Map<string, string>();
  private readonly unsubscribe: (() => void)[] = [];
  private problemSeq = 0;

  constructor(
    private readonly options: SandboxServerOptions,
    private readonly onProblem: (problem: SandboxProblem) => void,
  ) {
    this.ws = options.standIn.workspace;
    for (const person of options.people) {
      this.people.set(person.slackId, person);
      // The bot reads people from Slack (users.info, users.lookupByEmail): they must exist there.
      if (!this.ws.user(person.slackId)) {
        this.ws.addUser({
          id: person.slackId,
          email: person.email,
          name: person.email.split('@')[0] ?? person.slackId,
          realName: person.name,
          tz: options.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
        });
      }
    }
    this.channels = options.channels;
    for (const channel of options.channels) if (!this.ws.channel(channel.id)) this.ws.addChannel(channel);
    this.unsubscribe.push(options.standIn.on('call', (call) => this.noteCall(call)));
    for (const event of ['message', 'ephemeral'] as const) {
      this.unsubscribe.push(options.standIn.on(event, (message) => this.stampBotTime(message)));
    }
  }

  dispose(): void {
    for (const off of this.unsubscribe) off();
  }

  get channelList(): readonly SandboxChannel[] {
    return this.channels;
  }

  person(id: unknown): SandboxPerson {
    const person = typeof id === 'string' ? this.people.get(id) : undefined;
    if (!person) throw new HttpError(400, 'unknown person: pick someone from the directory');
    return person;
  }

  /**
   * Slash command text as Slack sends it for a command with `should_escape: true` (the manifest's
   * `/access`): `@kim` naming a member becomes `<@U0KIM|kim>`; anything else stays as typed.
   */
  escapeMentions(text: string): string {
    return text.replace(/(^|\s)@([a-z0-9][a-z0-9._-]*)/gi, (whole, lead: string, handle: string) => {
      const person = [...this.people.values()].find((p) => this.ws.user(p.slackId)?.name === handle.toLowerCase());
      return person ? `${lead}<@${person.slackId}|${handle.toLowerCase()}>` : whole;
    });
  }

  /** A person's time zone, as Slack's users.info gives it (the page shows times in it). */
  timezoneOf(slackId: string): string {
    return this.ws.user(slackId)?.tz ?? this.options.timezone ?? 'UTC';
  }

  workspaceInfo(): Json {
    const names: Record<string, string> = {};
    for (const user of this.ws.listUsers()) names[user.id] = user.realName || user.name;
    names[this.ws.botUserId] = BOT_NAME;
    const channelNames: Record<string, string> = {};
    for (const channel of this.channels) channelNames[channel.id] = channel.name;
    return {
      team: { id: this.ws.teamId, name: this.ws.teamName },
      bot: { userId: this.ws.botUserId, name: BOT_NAME },
      people: [...this.people.values()].map((p) => ({ ...p, timezone: this.timezoneOf(p.slackId) })),
      channels: this.channels,
      userNames: names,
      channelNames,
      clock: this.options.clock
        ? { now: this.options.clock.now().toISOString(), timezone: this.options.timezone ?? null }
        : null,
    };
  }

  /**
   * How many messages each person has in their DM with the bot (and how many of the channels'
   * messages there are): the page compares them with what each person last saw, to mark who has
   * something new waiting.
   */
  activity(): Json {
    const dms: Record<string, number> = {};
    for (const person of this.people.values())
      dms[person.slackId] = this.ws.messages(this.ws.dmChannelId(person.slackId)).length;
    return { dms };
  }

  /** What one person sees: their DM with the bot, the bot's channels, their ephemerals, Home and modals. */
  stateFor(person: SandboxPerson): Json {
    const dm = this.ws.dmChannelId(person.slackId);
    const conversation = (id: string) =>
      this.ws
        .messages(id, { includeEphemeral: true })
        .filter((m) => !m.ephemeralFor || m.ephemeralFor === person.slackId)
        .map((m) => this.messageJson(m));
    const home = this.ws.homeView(person.slackId);
    return {
      user: { ...person, timezone: this.timezoneOf(person.slackId) },
      now: this.options.clock?.now().toISOString() ?? null,
      conversations: [
        { id: dm, kind: 'dm', name: BOT_NAME, messages: conversation(dm) },
        ...this.channels.map((c) => ({ id: c.id, kind: 'channel', name: c.name, messages: conversation(c.id) })),
      ],
      home: home ? apiView(home, this.ws) : null,
      modals: this.ws.modalStack(person.slackId).map((v) => apiView(v, this.ws)),
      problems: this.problems.filter((p) => this.concerns(p, person, dm)),
    };
  }

  /** An uploaded file, complete, for download. */
  file(id: string): StoredFile & { bytes: Buffer } {
    const file = this.ws.file(id);
    if (!file?.completed || !file.bytes) throw new HttpError(404, 'no such file');
    return file as StoredFile & { bytes: Buffer };
  }

  private concerns(problem: SandboxProblem, person: SandboxPerson, dm: string): boolean {
    if (problem.userId) return problem.userId === person.slackId;
    if (problem.channel) return problem.channel === dm || this.channels.some((c) => c.id === problem.channel);
    return true;
  }

  private messageJson(message: StoredMessage): Json {
    return {
      ts: message.ts,
      channel: message.channel,
      text: message.text,
      blocks: message.blocks,
      threadTs: message.threadTs ?? null,
      ephemeral: Boolean(message.ephemeralFor),
      version: message.versions.length,
      /** The bot's clock when it arrived: the time control moves it, and the page stamps messages with it. */
      botTime: this.botTimes.get(`${message.channel}:${message.ts}`) ?? null,
      files: message.files
        .map((id) => this.ws.file(id))
        .filter((f) => f !== undefined)
        .map((f) => ({
          id: f.id,
          name: f.filename,
          title: f.title ?? f.filename,
          size: f.bytes?.length ?? 0,
          url: `/api/files/${f.id}`,
        })),
    };
  }

  private stampBotTime(message: StoredMessage): void {
    if (!this.options.clock) return;
    this.botTimes.set(`${message.channel}:${message.ts}`, this.options.clock.now().toISOString());
    if (this.botTimes.size > BOT_TIMES_KEPT) this.botTimes.delete(this.botTimes.keys().next().value!);
  }

  // ---- problems: what Slack refused -------------------------------------------------------------

  private noteCall(call: ApiCall): void {
    const answer = (typeof call.answer === 'object' && call.answer !== null ? call.answer : {}) as {
      ok?: boolean;
      error?: string;
      errors?: unknown;
      response_metadata?: { messages?: unknown };
    };
    if (answer.ok !== false || !answer.error || !REPORTED_ERRORS.has(answer.error)) return;
    const details = [
      ...(Array.isArray(answer.errors) ? answer.errors : []),
      ...(Array.isArray(answer.response_metadata?.messages) ? answer.response_metadata.messages : []),
    ]
      .filter((d): d is string => typeof d === 'string')
      .map((d) => d.replace(/^\[ERROR\] /, ''));
    const what = call.method.startsWith('chat.')
      ? 'a message'
      : call.method === 'views.publish'
        ? 'an App Home tab'
        : call.method.startsWith('views.')
          ? 'a modal'
          : call.method.startsWith('files.')
            ? 'a file'
            : 'a request';
    this.addProblem({
      kind: 'rejected_call',
      summary: LAYOUT_ERRORS.has(answer.error)
        ? `The app sent ${what} Slack would reject: ${call.method} answered ${answer.error}`
        : `Slack refused ${call.method}: ${answer.error}`,
      details: [...new Set(details)],
      ...this.whereCallBelongs(call),
    });
  }

  private whereCallBelongs(call: ApiCall): { channel?: string; userId?: string } {
    const arg = (name: string) => (typeof call.args[name] === 'string' ? call.args[name] : undefined);
    const channel = arg('channel') ?? arg('channel_id');
    if (channel) return { channel: /^[UW]/.test(channel) ? this.ws.dmChannelId(channel) : channel };
    const trigger = arg('trigger_id');
    const triggerUser = trigger ? this.ws.trigger(trigger)?.userId : undefined;
    if (triggerUser) return { userId: triggerUser };
    const viewId = arg('view_id');
    const viewUser = viewId ? this.ws.view(viewId)?.userId : undefined;
    if (viewUser) return { userId: viewUser };
    const userId = arg('user_id');
    return userId ? { userId } : {};
  }

  addProblem(problem: Omit<SandboxProblem, 'id' | 'at'>): SandboxProblem {
    this.problemSeq += 1;
    const stored = { id: this.problemSeq, at: new Date().toISOString(), ...problem };
    this.problems.push(stored);
    if (this.problems.length > PROBLEMS_KEPT) this.problems.shift();
    this.onProblem(stored);
    return stored;
  }
}
