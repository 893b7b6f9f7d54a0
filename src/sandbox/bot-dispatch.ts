/**
 * What a person does on the sandbox page, sent to the bot as Slack would send it: a slash command,
 * a click or a pick (block_actions), a search in an external select (block_suggestion), a modal
 * submitted or closed, the App Home opened (an Events API callback). Each is built and signed by
 * `slack-requests.ts` (the same builder the tests use) and POSTed to the bot's `/slack/events`;
 * what the bot acks is then applied as Slack applies it (a slash command's message, a
 * view_submission's `response_action`). Only what the person can see can be acted on.
 */
import {
  BLOCK_KIT_LIMITS,
  checkMessageBlocks,
  checkView,
  describeProblem,
  viewByteLength,
} from './slack-api/block-kit-limits.js';
import type { StoredView } from './slack-api/slack-workspace.js';
import { apiMessage, apiView, newView, redefine } from './slack-api/web-api-methods.js';
import {
  actionFor,
  elementOptions,
  findElement,
  stateValues,
  type BlockOption,
  type PageForm,
  type PageInput,
} from './payloads.js';
import {
  blockActionsPayload,
  blockSuggestionPayload,
  eventCallbackBody,
  interactivityBody,
  postSigned,
  slashCommandBody,
  viewClosedPayload,
  viewSubmissionPayload,
  type ActionContainer,
  type Actor,
  type SlackContentType,
} from './slack-requests.js';
import { HttpError, type Json, type SandboxPerson, type SandboxServerOptions } from './sandbox-types.js';
import type { WorkspaceView } from './workspace-view.js';

/** Slack waits 3 seconds for an ack, then tells the person the app did not respond. */
const ACK_TIMEOUT_MS = 3000;

interface BotAnswer {
  ok: boolean;
  status: number;
  json: unknown;
  error?: string;
}

export class BotDispatch {
  /** What the bot suggested for each external select, per person: `user|container|block|action`. */
  private readonly suggestions = new Map<string, BlockOption[]>();

  constructor(
    private readonly options: SandboxServerOptions,
    private readonly view: WorkspaceView,
  ) {}

  private get ws() {
    return this.view.ws;
  }

  private actor(person: SandboxPerson): Actor {
    const user = this.ws.user(person.slackId);
    return {
      userId: person.slackId,
      userName: user?.name ?? person.email.split('@')[0] ?? person.slackId,
      teamId: this.ws.teamId,
      teamDomain: this.ws.teamName.toLowerCase(),
      appId: this.ws.appId,
    };
  }

  /**
   * POSTs a signed request to the bot as Slack does. A non-200 answer or no answer within 3 s is
   * what Slack reports to the person as a failed dispatch; the caller decides where to show it.
   */
  private async postToBot(body: string, contentType: SlackContentType): Promise<BotAnswer> {
    try {
      const answer = await postSigned(this.options.botEventsUrl, this.options.signingSecret, body, contentType, {
        timeoutMs: ACK_TIMEOUT_MS,
      });
      if (answer.status !== 200)
        return { ok: false, status: answer.status, json: answer.json, error: 'dispatch_failed' };
      return { ok: true, status: 200, json: answer.json };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { ok: false, status: 0, json: undefined, error: timedOut ? 'operation_timeout' : 'dispatch_failed' };
    }
  }

  private dispatchFailed(
    what: string,
    error: string,
    where: { channel?: string; userId?: string },
    status: number,
  ): Json {
    const problem = this.view.addProblem({
      kind: 'dispatch_failed',
      summary: `${what} failed with the error "${error}"`,
      details: [
        status
          ? `The app answered HTTP ${status}.`
          : error === 'operation_timeout'
            ? `The app did not answer within ${ACK_TIMEOUT_MS / 1000} seconds.`
            : 'The app could not be reached.',
      ],
      ...where,
    });
    return { ok: false, error, problem };
  }

  /** `/access request github owner` typed in a conversation -> a slash command. */
  async command(body: Json): Promise<Json> {
    const person = this.view.person(body.user);
    const channel = this.conversationFor(person, body.channel);
    const typed = typeof body.text === 'string' ? body.text.trim() : '';
    const match = /^(\/[a-z0-9_-]+)(?:\s+([\s\S]*))?$/i.exec(typed);
    if (!match?.[1]) throw new HttpError(400, 'type a slash command, such as /access request');
    const command = match[1].toLowerCase();
    // Slack only sends the app the commands it declared, and says so about any other.
    if (!(this.options.commands ?? ['/access']).includes(command)) {
      throw new HttpError(
        400,
        `${command} is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands.`,
      );
    }
    const text = this.view.escapeMentions((match[2] ?? '').trim());
    const responseUrl = this.options.standIn.issueResponseUrl({ channelId: channel.id, userId: person.slackId });
    const answer = await this.postToBot(
      slashCommandBody(this.actor(person), {
        command,
        text,
        channelId: channel.id,
        channelName: channel.name,
        responseUrl,
        triggerId: this.options.standIn.issueTriggerId(person.slackId),
      }),
      'application/x-www-form-urlencoded',
    );
    if (!answer.ok)
      return this.dispatchFailed(command, answer.error ?? 'dispatch_failed', { channel: channel.id }, answer.status);
    this.showCommandAck(person, channel.id, answer.json);
    return { ok: true };
  }

  /** A slash command's ack body is a message: ephemeral unless `response_type: in_channel`. */
  private showCommandAck(person: SandboxPerson, channel: string, ack: unknown): void {
    if (typeof ack !== 'object' || ack === null) return;
    const { text, blocks, response_type: responseType } = ack as Json;
    if (typeof text !== 'string' && blocks === undefined) return;
    if (blocks !== undefined) {
      const problems = checkMessageBlocks(blocks);
      if (problems.length > 0) {
        this.view.addProblem({
          kind: 'rejected_call',
          channel,
          summary: 'The app sent a message Slack would reject: the slash command answer has invalid_blocks',
          details: problems.map(describeProblem),
        });
        return;
      }
    }
    this.ws.addMessage({
      channel,
      user: this.ws.botUserId,
      text: typeof text === 'string' ? text.slice(0, BLOCK_KIT_LIMITS.messageText) : '',
      blocks: Array.isArray(blocks) ? blocks : [],
      via: 'response_url',
      ...(responseType === 'in_channel' ? {} : { ephemeralFor: person.slackId }),
    });
  }

  private conversationFor(person: SandboxPerson, id: unknown): { id: string; name: string } {
    const dm = this.ws.dmChannelId(person.slackId);
    // Slack names a DM "directmessage" in slash commands.
    if (id === dm) return { id: dm, name: 'directmessage' };
    const channel = this.view.channelList.find((c) => c.id === id);
    if (!channel) throw new HttpError(400, 'unknown conversation');
    return channel;
  }

  /** Resolves where an element sits; only what this person can see. */
  private container(
    person: SandboxPerson,
    raw: unknown,
  ): { container: ActionContainer; blocks: unknown; key: string; view?: StoredView } {
    const spec = (typeof raw === 'object' && raw !== null ? raw : {}) as Json;
    if (spec.type === 'view') {
      const view = this.visibleView(person, spec.viewId);
      return {
        container: { type: 'view', view: apiView(view, this.ws) },
        blocks: view.definition.blocks,
        key: `view:${view.id}`,
        view,
      };
    }
    if (spec.type === 'message' && typeof spec.ts === 'string') {
      const channel = this.conversationFor(person, spec.channel);
      const message = this.ws.findMessage(channel.id, spec.ts);
      if (!message || (message.ephemeralFor && message.ephemeralFor !== person.slackId))
        throw new HttpError(404, 'no such message');
      const isEphemeral = Boolean(message.ephemeralFor);
      return {
        container: {
          type: 'message',
          channelId: channel.id,
          channelName: channel.name,
          isEphemeral,
          message: { ...apiMessage(message, this.ws), ts: message.ts },
          responseUrl: this.options.standIn.issueResponseUrl({
            channelId: channel.id,
            userId: person.slackId,
            messageTs: message.ts,
          }),
        },
        blocks: message.blocks,
        key: `message:${channel.id}:${message.ts}`,
      };
    }
    throw new HttpError(400, 'container must be {type:"message", channel, ts} or {type:"view", viewId}');
  }

  /** A modal the person has open, or their App Home. */
  private visibleView(person: SandboxPerson, viewId: unknown): StoredView {
    const view = typeof viewId === 'string' ? this.ws.view(viewId) : undefined;
    const open =
      view &&
      view.userId === person.slackId &&
      !view.closed &&
      (view.type === 'home'
        ? this.ws.homeView(person.slackId)?.id === view.id
        : this.ws.modalStack(person.slackId).some((v) => v.id === view.id));
    if (!view || !open) throw new HttpError(404, 'that view is no longer open');
    return view;
  }

  private suggested(person: SandboxPerson, key: string) {
    return (blockId: string, actionId: string) =>
      this.suggestions.get(`${person.slackId}|${key}|${blockId}|${actionId}`);
  }

  /** Keeps what the person has typed in the view, as Slack does between interactions. */
  private recordViewState(
    person: SandboxPerson,
    view: StoredView,
    form: PageForm,
    key: string,
  ): Record<string, Record<string, Json>> {
    const values = stateValues(view.definition.blocks, form, this.suggested(person, key));
    for (const [blockId, actions] of Object.entries(values)) {
      for (const [actionId, value] of Object.entries(actions)) this.ws.setViewState(view.id, blockId, actionId, value);
    }
    return values;
  }

  /** A click or a pick in a message, a modal or the App Home -> block_actions. */
  async action(body: Json): Promise<Json> {
    const person = this.view.person(body.user);
    const { container, blocks, key, view } = this.container(person, body.container);
    const blockId = typeof body.blockId === 'string' ? body.blockId : '';
    const actionId = typeof body.actionId === 'string' ? body.actionId : '';
    const located = findElement(blocks, blockId, actionId);
    if (!located) throw new HttpError(404, 'no such element: the message or view has changed');
    const values = view ? this.recordViewState(person, view, pageForm(body.form), key) : {};
    const action = actionFor(located, pageInput(body.input), actionTs(), this.suggested(person, key));
    if (!action) throw new HttpError(400, "that is not one of the element's options");
    const finalContainer: ActionContainer = view ? { type: 'view', view: apiView(view, this.ws) } : container;
    const answer = await this.postToBot(
      interactivityBody(
        blockActionsPayload(this.actor(person), {
          container: finalContainer,
          action,
          triggerId: this.options.standIn.issueTriggerId(person.slackId),
          stateValues: values,
        }),
      ),
      'application/x-www-form-urlencoded',
    );
    if (!answer.ok) {
      const where = container.type === 'message' ? { channel: container.channelId } : { userId: person.slackId };
      return this.dispatchFailed('The action', answer.error ?? 'dispatch_failed', where, answer.status);
    }
    return { ok: true };
  }

  /** An external select asks the bot for options. */
  async suggest(body: Json): Promise<Json> {
    const person = this.view.person(body.user);
    const { container, blocks, key, view } = this.container(person, body.container);
    const blockId = typeof body.blockId === 'string' ? body.blockId : '';
    const actionId = typeof body.actionId === 'string' ? body.actionId : '';
    const located = findElement(blocks, blockId, actionId);
    if (!located || !String(located.element.type).includes('external_select'))
      throw new HttpError(404, 'no such external select');
    if (view) this.recordViewState(person, view, pageForm(body.form), key);
    const finalContainer: ActionContainer = view ? { type: 'view', view: apiView(view, this.ws) } : container;
    const answer = await this.postToBot(
      interactivityBody(
        blockSuggestionPayload(this.actor(person), {
          blockId,
          actionId,
          value: typeof body.value === 'string' ? body.value : '',
          container: finalContainer,
        }),
      ),
      'application/x-www-form-urlencoded',
    );
    if (!answer.ok) return { ok: false, error: answer.error, options: [] };
    const reply = (typeof answer.json === 'object' && answer.json !== null ? answer.json : {}) as Json;
    const options = elementOptions({ options: reply.options, option_groups: reply.option_groups });
    this.suggestions.set(`${person.slackId}|${key}|${blockId}|${actionId}`, options);
    const groups = Array.isArray(reply.option_groups) ? reply.option_groups : undefined;
    return { ok: true, ...(groups ? { option_groups: groups } : { options }) };
  }

  /** Submit in a modal -> view_submission; the ack's response_action decides what the modal does. */
  async submitView(body: Json): Promise<Json> {
    const person = this.view.person(body.user);
    const top = this.ws.currentModal(person.slackId);
    if (!top || top.id !== body.viewId) throw new HttpError(409, 'that modal is no longer on top');
    const values = this.recordViewState(person, top, pageForm(body.form), `view:${top.id}`);
    const answer = await this.postToBot(
      interactivityBody(
        viewSubmissionPayload(this.actor(person), {
          view: apiView(top, this.ws),
          stateValues: values,
          triggerId: this.options.standIn.issueTriggerId(person.slackId),
        }),
      ),
      'application/x-www-form-urlencoded',
    );
    // Slack keeps the modal open and says it had trouble connecting.
    if (!answer.ok)
      return this.dispatchFailed(
        'Submitting the form',
        answer.error ?? 'dispatch_failed',
        { userId: person.slackId },
        answer.status,
      );
    return this.applyResponseAction(person, top, answer.json);
  }

  /**
   * What Slack does with a view_submission ack (docs.slack.dev surfaces/modals): no body closes
   * the submitted view; `errors` shows messages under input blocks; `update` replaces the view;
   * `push` stacks a new one; `clear` closes them all.
   */
  private applyResponseAction(person: SandboxPerson, top: StoredView, ack: unknown): Json {
    const reply = (typeof ack === 'object' && ack !== null ? ack : {}) as Json;
    const action = reply.response_action;
    if (action === undefined) {
      this.ws.closeTopModal(person.slackId);
      return { ok: true, closed: true };
    }
    if (action === 'errors') {
      const errors = (typeof reply.errors === 'object' && reply.errors !== null ? reply.errors : {}) as Json;
      const shown: Record<string, string> = {};
      for (const [blockId, message] of Object.entries(errors))
        if (typeof message === 'string') shown[blockId] = message;
      return { ok: true, errors: shown };
    }
    if (action === 'clear') {
      this.ws.closeModals(person.slackId);
      return { ok: true, closed: true };
    }
    if (action === 'update' || action === 'push') {
      const definition = reply.view;
      const problems =
        typeof definition === 'object' && definition !== null
          ? checkView(definition, 'modal')
          : [{ message: 'missing view', pointer: '/view' }];
      const tooLarge = viewByteLength(definition) > BLOCK_KIT_LIMITS.viewBytes;
      if (problems.length > 0 || tooLarge) {
        this.view.addProblem({
          kind: 'rejected_call',
          userId: person.slackId,
          summary: `The app sent a modal Slack would reject: response_action ${action}`,
          details: tooLarge ? ['view_too_large'] : problems.map(describeProblem),
        });
        return { ok: false, error: 'invalid_view' };
      }
      const view = definition as Json;
      if (action === 'update') {
        redefine(this.ws, top, view);
        this.ws.viewUpdated(top);
      } else {
        this.ws.pushModal(
          newView(this.ws, view, {
            userId: person.slackId,
            type: 'modal',
            rootViewId: top.rootViewId,
            previousViewId: top.id,
          }),
        );
      }
      return { ok: true };
    }
    return { ok: false, error: `unknown response_action ${String(action)}` };
  }

  /** Close / Cancel on the top modal -> view_closed when the app asked with notify_on_close. */
  async closeView(body: Json): Promise<Json> {
    const person = this.view.person(body.user);
    const top = this.ws.currentModal(person.slackId);
    if (!top || top.id !== body.viewId) throw new HttpError(409, 'that modal is no longer on top');
    this.ws.closeTopModal(person.slackId);
    if (top.definition.notify_on_close !== true) return { ok: true };
    const answer = await this.postToBot(
      interactivityBody(
        viewClosedPayload(this.actor(person), {
          view: apiView(top, this.ws),
          isCleared: false,
        }),
      ),
      'application/x-www-form-urlencoded',
    );
    if (!answer.ok)
      return this.dispatchFailed(
        'Closing the modal',
        answer.error ?? 'dispatch_failed',
        { userId: person.slackId },
        answer.status,
      );
    return { ok: true };
  }

  /**
   * The page was opened as this person afresh: a modal left open in an earlier session belongs to
   * that session's client (Slack does not carry a modal from one device to another), so it is
   * closed, with view_closed (is_cleared) when the app asked for it.
   */
  async clearModals(body: Json): Promise<Json> {
    const person = this.view.person(body.user);
    const stack = this.ws.modalStack(person.slackId);
    if (stack.length === 0) return { ok: true, closed: 0 };
    this.ws.closeModals(person.slackId);
    for (const top of stack.filter((v) => v.definition.notify_on_close === true)) {
      await this.postToBot(
        interactivityBody(viewClosedPayload(this.actor(person), { view: apiView(top, this.ws), isCleared: true })),
        'application/x-www-form-urlencoded',
      );
    }
    return { ok: true, closed: stack.length };
  }

  /** Opening the app's Home (or Messages) tab -> the app_home_opened event. */
  async appHomeOpened(body: Json): Promise<Json> {
    const person = this.view.person(body.user);
    const tab = body.tab === 'messages' ? 'messages' : 'home';
    const home = this.ws.homeView(person.slackId);
    const event: Json & { type: string } = {
      type: 'app_home_opened',
      user: person.slackId,
      channel: this.ws.dmChannelId(person.slackId),
      tab,
      ...(tab === 'home' && home ? { view: apiView(home, this.ws) } : {}),
    };
    const answer = await this.postToBot(
      eventCallbackBody(this.actor(person), this.ws.botUserId, event),
      'application/json',
    );
    return answer.ok ? { ok: true } : { ok: false, error: answer.error };
  }
}

function actionTs(): string {
  return (Date.now() / 1000).toFixed(6);
}

/** The page's form: only string/array/null leaves survive. */
function pageForm(raw: unknown): PageForm {
  const form: PageForm = {};
  if (typeof raw !== 'object' || raw === null) return form;
  for (const [blockId, actions] of Object.entries(raw)) {
    if (typeof actions !== 'object' || actions === null) continue;
    for (const [actionId, input] of Object.entries(actions)) {
      const parsed = pageInput(input);
      if (parsed) form[blockId] = { ...form[blockId], [actionId]: parsed };
    }
  }
  return form;
}

function pageInput(raw: unknown): PageInput | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Json;
  const input: PageInput = {};
  const text = (v: unknown) => (typeof v === 'string' ? v : v === null ? null : undefined);
  if (text(r.value) !== undefined) input.value = text(r.value);
  if (text(r.selected) !== undefined) input.selected = text(r.selected);
  if (text(r.date) !== undefined) input.date = text(r.date);
  if (text(r.id) !== undefined) input.id = text(r.id);
  if (Array.isArray(r.selectedValues))
    input.selectedValues = r.selectedValues.filter((v): v is string => typeof v === 'string');
  return input;
}
