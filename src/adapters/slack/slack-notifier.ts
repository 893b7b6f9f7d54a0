/**
 * The Notifier port on Slack. Each notification is rendered from the current database state with
 * the block builders, so a retried job shows the truth when it is sent. What was posted is kept in
 * `slack_messages` (channel + ts per slot): the same slot is updated, never posted twice, which is
 * what makes a job's key one message, and what lets a decision update every copy of a step's
 * message. Failures throw TransientError/PermanentError for the job runner to retry or give up.
 *
 * Every call goes through `SlackCallGate`, so a 429 pauses that method for all jobs. Each person's
 * DM channel is opened once and remembered. A configured channel the bot cannot see
 * (`channel_not_found`: private and not invited, or a wrong id) is reported to the alerts channel
 * and retried; an approval step that was to be asked there is asked by DM instead.
 */
import type { WebClient } from '@slack/web-api';
import { alertMessage } from '../../../blocks/alert-message.js';
import { approvalMessage, type SlackMessage } from '../../../blocks/approval-message.js';
import { noticeMessage } from '../../../blocks/modals.js';
import { taskMessage } from '../../../blocks/task-message.js';
import { REQUESTER_EVENTS, requesterMessage, type RequesterEvent } from '../../../blocks/requester-message.js';
import { digestBlocks } from '../../../blocks/digest.js';
import { LIMITS, truncateMrkdwn } from '../../../blocks/limits.js';
import { PermanentError, TransientError } from '../../domain/errors.js';
import { alert } from '../../operations/lifecycle.js';
import { buildDigest } from '../../operations/build-digest.js';
import { parseExportFilters } from '../../operations/exports/export-filters.js';
import { digestTable } from '../../operations/digest-table.js';
import { exportCsvToBuffer, tableCsvToBuffer } from '../csv/export-csv.js';
import { SqliteExportSource } from '../db/export-reader.js';
import { SqliteStore } from '../db/sqlite-store.js';
import type { Notification, Recipient } from '../../domain/records.js';
import type { Deps, Notifier } from '../../operations/context.js';
import { taskView } from './overview.js';
import { requestCard } from './request-card.js';
import { forgetDmChannel, openDm } from './dm-channels.js';
import { SlackCallGate } from './slack-call-gate.js';
import { classifySlackError, platformError } from './slack-errors.js';
import type { SlackMessageStore } from './slack-message-store.js';

type NotifierDeps = Pick<Deps, 'store' | 'catalog' | 'settings' | 'directory' | 'clock' | 'logger'>;

/** Where one message goes: a channel as it is, or a person whose DM is opened when posting. */
type Target = { kind: 'channel'; channel: string } | { kind: 'person'; directoryId: string };

interface Meta {
  requestId: string | null;
  stepIndex: number | null;
  recipient: string;
  type: Notification['type'];
}

/** Terminal requester events also refresh the "submitted" DM, so its Cancel button goes away. */
const CLOSES_REQUEST = new Set<Notification['type']>(['request.approved', 'request.denied', 'request.cancelled', 'request.expired']);

export class SlackNotifier implements Notifier {
  private readonly gate: SlackCallGate;

  constructor(
    private readonly deps: NotifierDeps,
    private readonly client: WebClient,
    private readonly messages: SlackMessageStore,
    gate?: SlackCallGate,
  ) {
    this.gate = gate ?? new SlackCallGate({ clock: deps.clock, logger: deps.logger });
  }

  async deliver(notification: Notification, key: string): Promise<void> {
    if (notification.type === 'approval.requested' || notification.type === 'approval.outcome') {
      return this.deliverApproval(notification);
    }
    if (REQUESTER_EVENTS.has(notification.type)) return this.deliverToRequester(notification, key);
    if (notification.type === 'task.assigned') return this.deliverTask(notification);
    if (notification.type === 'task.completed') return this.settleTask(notification);
    if (notification.type === 'alert') return this.deliverAlert(notification, key);
    if (notification.type === 'digest') return this.deliverDigest(notification, key);
    return this.deliverNotice(notification, key);
  }

  // ---- approval messages: one slot per request, step and recipient ----------------------------

  private async deliverApproval(n: Notification): Promise<void> {
    if (!n.requestId || n.stepIndex === undefined) throw new PermanentError(`${n.type} without a request and step`);
    const card = requestCard(this.deps, n.requestId);
    if (!card) throw new PermanentError(`request ${n.requestId} does not exist`);
    const step = card.steps.find((s) => s.index === n.stepIndex);
    if (!step) throw new PermanentError(`request ${n.requestId} has no step ${n.stepIndex}`);
    const targets = n.recipient.kind === 'group' ? await this.groupTargets(n.recipient.group) : [toTarget(n.recipient)];
    // A `notify:` step whose channel the bot could not see was asked by DM: those copies follow too.
    if (n.type === 'approval.outcome' && n.recipient.kind === 'channel') {
      for (const posted of this.messages.withSlotPrefix(`approval:${card.id}:${step.index}:person:`)) {
        targets.push({ kind: 'person', directoryId: posted.slot.slice(`approval:${card.id}:${step.index}:person:`.length) });
      }
    }
    for (const target of targets) {
      const recipient = targetKey(target);
      const slot = `approval:${card.id}:${step.index}:${recipient}`;
      const posted = this.messages.get(slot);
      if (!posted) {
        // Nothing to update; and a step no longer open needs nobody asked (a retried ask that lost the race).
        if (n.type === 'approval.outcome') continue;
        if (step.status !== 'open' || card.status !== 'pending_approval') continue;
      }
      const audience = target.kind === 'person' ? { kind: 'person' as const, directoryId: target.directoryId } : { kind: 'channel' as const };
      try {
        await this.postOrUpdate(slot, target, approvalMessage(card, step.index, audience), { requestId: card.id, stepIndex: step.index, recipient, type: n.type });
      } catch (error) {
        if (!(error instanceof UnreachableChannelError) || n.type !== 'approval.requested') throw error;
        // Nobody can see the channel: the step's approvers are asked by DM, so no step waits on a
        // message nobody reads. Any of them decides as they would in the channel.
        const approvers = this.deps.store.getSteps(card.id).find((s) => s.index === step.index)?.approvers ?? [];
        this.deps.logger.warn('approval channel unreachable; asking the approvers by DM', { requestId: card.id, step: step.index + 1, channel: error.channel, approvers: approvers.length });
        for (const approver of approvers) {
          const dm: Target = { kind: 'person', directoryId: approver.directoryId };
          await this.postOrUpdate(`approval:${card.id}:${step.index}:${targetKey(dm)}`, dm, approvalMessage(card, step.index, { kind: 'person', directoryId: approver.directoryId }), { requestId: card.id, stepIndex: step.index, recipient: targetKey(dm), type: n.type });
        }
      }
    }
  }

  // ---- the requester's DM: one message per job key --------------------------------------------------

  private async deliverToRequester(n: Notification, key: string): Promise<void> {
    const requestId = n.requestId ?? (n.grantId ? this.deps.store.getGrant(n.grantId)?.requestId : undefined);
    const card = requestId ? requestCard(this.deps, requestId) : undefined;
    if (!card) throw new PermanentError(`${n.type}: no request for ${n.requestId ?? n.grantId ?? 'nothing'}`);
    const event = { type: n.type, stepIndex: n.stepIndex ?? 0, leadSeconds: n.leadSeconds ?? 0 } as RequesterEvent;
    const target = n.recipient.kind === 'group' ? undefined : toTarget(n.recipient);
    if (!target) throw new PermanentError(`${n.type} cannot go to a group`);
    await this.postOrUpdate(`job:${key}`, target, requesterMessage(card, event), { requestId: card.id, stepIndex: n.stepIndex ?? null, recipient: targetKey(target), type: n.type });

    if (CLOSES_REQUEST.has(n.type)) {
      const submitted = this.messages.get(`job:notify:submitted:${card.id}`);
      if (submitted) {
        try {
          await this.update(submitted.channel, submitted.ts, requesterMessage(card, { type: 'request.submitted' }));
          this.messages.touch(submitted.slot, this.now());
        } catch (error) {
          // Only a stale Cancel button is left behind; its click is refused and explained.
          this.deps.logger.warn('could not refresh the submitted message', { requestId: card.id, error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
  }

  // ---- manual tasks: one copy per member of the assignee group, one slot per task and member ---------

  private async deliverTask(n: Notification): Promise<void> {
    if (!n.taskId) throw new PermanentError('task.assigned without a task');
    const view = taskView(this.deps, n.taskId);
    if (!view) throw new PermanentError(`task ${n.taskId} does not exist`);
    const targets = n.recipient.kind === 'group' ? await this.groupTargets(n.recipient.group) : [toTarget(n.recipient)];
    const message = taskMessage(view);
    for (const target of targets) {
      // Nobody is asked to set up their own access (the core would refuse their Done anyway).
      if (target.kind === 'person' && target.directoryId === view.holder.directoryId) continue;
      const recipient = targetKey(target);
      const slot = `task:${view.taskId}:${recipient}`;
      // A task done before its message went out needs nobody asked (a retried job that lost the race).
      if (view.status === 'done' && !this.messages.get(slot)) continue;
      await this.postOrUpdate(slot, target, message, { requestId: view.requestId, stepIndex: null, recipient, type: 'task.assigned' });
    }
  }

  /** Done: every copy of the task message shows who completed it, and loses its button. */
  private async settleTask(n: Notification): Promise<void> {
    if (!n.taskId) throw new PermanentError('task.completed without a task');
    const view = taskView(this.deps, n.taskId);
    if (!view) throw new PermanentError(`task ${n.taskId} does not exist`);
    const message = taskMessage(view);
    for (const posted of this.messages.withSlotPrefix(`task:${view.taskId}:`)) {
      try {
        await this.update(posted.channel, posted.ts, message);
        this.messages.touch(posted.slot, this.now());
      } catch (error) {
        // A deleted copy has nothing to show; anything else is retried with the job.
        if (platformError(error) !== 'message_not_found') throw classifySlackError(error, `chat.update ${posted.slot}`);
      }
    }
  }

  // ---- alerts: the alerts channel, one message per job key --------------------------------------

  private async deliverAlert(n: Notification, key: string): Promise<void> {
    if (n.recipient.kind === 'group') throw new PermanentError('an alert cannot go to a group');
    const grant = n.grantId ? this.deps.store.getGrant(n.grantId) : undefined;
    const entry = grant ? this.deps.catalog.find(grant.app, grant.role) : undefined;
    const message = alertMessage({
      text: n.text ?? 'Something needs the access team\'s attention.',
      at: this.now(),
      timezone: this.deps.settings.timezone,
      grant: grant && { id: grant.id, appName: entry?.app.name ?? grant.app, roleName: entry?.role.name ?? grant.role, holderName: grant.holder.name, holderEmail: grant.holder.email, status: grant.status },
      requestId: n.requestId ?? grant?.requestId,
    });
    const target = toTarget(n.recipient);
    await this.postOrUpdate(`job:${key}`, target, message, { requestId: n.requestId ?? grant?.requestId ?? null, stepIndex: null, recipient: targetKey(target), type: n.type });
  }

  // ---- the weekly digest: the message, then its lists in full and the week's requests CSV in its thread ----

  private async deliverDigest(n: Notification, key: string): Promise<void> {
    if (n.recipient.kind !== 'channel' || !n.at) throw new PermanentError('a digest goes to a channel and names its week');
    const digest = buildDigest(this.deps, new Date(n.at));
    const slot = `job:${key}`;
    await this.postOrUpdate(slot, toTarget(n.recipient), digestBlocks(digest), { requestId: null, stepIndex: null, recipient: n.recipient.channel, type: n.type });
    const posted = this.messages.get(slot)!;
    // The full detail: the week's requests export, once per digest (a retry after a failed upload
    // uploads it; one after a successful upload does not).
    const csvSlot = `${slot}:csv`;
    if (this.messages.get(csvSlot)) return;
    if (!(this.deps.store instanceof SqliteStore)) throw new PermanentError('the digest CSV needs the SQLite store');
    const { buffer, summary } = await exportCsvToBuffer(this.deps, SqliteExportSource.forStore(this.deps.store), {
      kind: 'requests',
      filters: parseExportFilters('requests', { from: digest.periodStart, to: digest.periodEnd }),
      requestedBy: { kind: 'system', component: 'digest' },
      destination: 'slack',
    });
    const day = digest.periodEnd.slice(0, 10);
    // The message shows counts and the top lines; every list in full is this file.
    const table = digestTable(digest);
    const lists = await tableCsvToBuffer(table.columns, table.rows);
    try {
      await this.gate.call('files.completeUploadExternal', () => this.client.filesUploadV2({
        channel_id: posted.channel,
        thread_ts: posted.ts,
        file_uploads: [
          { file: lists.buffer, filename: `access-digest-week-${day}.csv`, title: `Access digest, every list in full, week ending ${day}` },
          { file: buffer, filename: `access-requests-week-${day}.csv`, title: `Access requests, week ending ${day}` },
        ],
        initial_comment: `Every list of the digest in full: ${lists.rows} rows, SHA-256 \`${lists.sha256}\`. The week's requests: ${summary.rows} rows, SHA-256 \`${summary.sha256}\`, audit log head \`${summary.auditHead}\`.`,
      }));
    } catch (error) {
      if (error instanceof TransientError) throw error;
      throw classifySlackError(error, `files upload ${csvSlot}`);
    }
    const now = this.now();
    this.messages.save({ slot: csvSlot, channel: posted.channel, ts: posted.ts, requestId: null, stepIndex: null, recipient: n.recipient.channel, notificationType: n.type, postedAt: now, updatedAt: now });
    this.deps.store.transaction((tx) =>
      tx.appendAudit({
        at: now,
        actor: { kind: 'system', component: 'digest' },
        action: 'digest.posted',
        details: { channel: posted.channel, periodStart: digest.periodStart, periodEnd: digest.periodEnd, auditHead: digest.auditHead.hash, sensitiveHolders: digest.sensitiveHolders.length, csv: { rows: summary.rows, sha256: summary.sha256 }, lists: { rows: lists.rows, sha256: lists.sha256 } },
      }),
    );
  }

  // ---- everything else --------------------------------------------------------------

  private async deliverNotice(n: Notification, key: string): Promise<void> {
    const text = n.text ?? describeNotice(n);
    const context = [n.requestId && `request ${n.requestId}`, n.grantId && `grant ${n.grantId}`, n.taskId && `task ${n.taskId}`].filter(Boolean).join(' · ');
    const targets = n.recipient.kind === 'group' ? await this.groupTargets(n.recipient.group) : [toTarget(n.recipient)];
    for (const target of targets) {
      const recipient = targetKey(target);
      const slot = n.recipient.kind === 'group' ? `job:${key}:${recipient}` : `job:${key}`;
      await this.postOrUpdate(slot, target, noticeMessage(text, context || undefined), { requestId: n.requestId ?? null, stepIndex: null, recipient, type: n.type });
    }
  }

  // ---- posting ---------------------------------------------------------------------------------------

  private async postOrUpdate(slot: string, target: Target, message: SlackMessage, meta: Meta): Promise<void> {
    const posted = this.messages.get(slot);
    if (posted) {
      try {
        await this.update(posted.channel, posted.ts, message);
        this.messages.touch(slot, this.now());
        return;
      } catch (error) {
        // Someone deleted it: post it again below rather than lose the message.
        if (error instanceof TransientError || platformError(error) !== 'message_not_found') throw this.failure(error, `chat.update ${slot}`, target);
      }
    }
    const answer = await this.post(slot, target, message);
    if (!answer.channel || !answer.ts) throw new PermanentError(`chat.postMessage ${slot}: Slack answered without channel and ts`);
    // A crash between the post and this write would post once more on retry: the only window left.
    const now = this.now();
    this.messages.save({ slot, channel: answer.channel, ts: answer.ts, requestId: meta.requestId, stepIndex: meta.stepIndex, recipient: meta.recipient, notificationType: meta.type, postedAt: now, updatedAt: now });
  }

  private async post(slot: string, target: Target, message: SlackMessage): Promise<{ channel?: string; ts?: string }> {
    for (;;) {
      const { channel, remembered } = await this.channelFor(target);
      try {
        return await this.gate.call('chat.postMessage', () => this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks }), channel);
      } catch (error) {
        // A remembered DM channel Slack no longer knows: forget it and open the DM again.
        if (remembered && platformError(error) === 'channel_not_found' && forgetDmChannel(this.deps.store, channel)) continue;
        throw this.failure(error, `chat.postMessage ${slot}`, target);
      }
    }
  }

  /** chat.update's `text` is limited to 4,000 characters (SLK-REF chat.update.json `msg_too_long`). */
  private async update(channel: string, ts: string, message: SlackMessage): Promise<void> {
    const text = truncateMrkdwn(message.text, LIMITS.updateText);
    await this.gate.call('chat.update', () => this.client.chat.update({ channel, ts, text, blocks: message.blocks }));
  }

  /**
   * Sorts a failed call. A configured channel the bot cannot see is an operator's problem, not a
   * permanent one: the alerts channel is told (or, for the alerts channel itself, the log says so
   * loudly) and the message is retried, so it goes out once the bot is invited.
   */
  private failure(error: unknown, what: string, target: Target): Error {
    if (error instanceof TransientError || error instanceof PermanentError) return error;
    if (target.kind === 'channel' && platformError(error) === 'channel_not_found') {
      this.reportUnreachableChannel(target.channel);
      return new UnreachableChannelError(target.channel, `${what}: Slack answered channel_not_found for ${target.channel}: the bot is not in that private channel (invite it with /invite @access), or the id is wrong`, { cause: error });
    }
    return classifySlackError(error, what);
  }

  private reportUnreachableChannel(channel: string): void {
    const alerts = this.deps.settings.alertsChannel;
    if (channel === alerts) {
      this.deps.logger.error('THE ALERTS CHANNEL IS UNREACHABLE: Slack answers channel_not_found; alerts cannot be delivered until the bot is invited', { channel, fix: `invite the bot to ${channel} (/invite @access), or correct alerts_channel in settings.yml` });
      return;
    }
    this.deps.logger.error('a configured channel is unreachable (channel_not_found)', { channel, fix: `invite the bot to ${channel} (/invite @access), or correct the channel id` });
    const now = this.now();
    // Once a day per channel, however many messages fail meanwhile.
    const key = `channel-unreachable:${channel}:${now.slice(0, 10)}`;
    if (this.deps.store.getJobByKey(`notify:alert:${key}`)) return;
    this.deps.store.transaction((tx) =>
      alert(tx, now, alerts, key, `The bot cannot post in <#${channel}>: Slack answers channel_not_found, so it is a private channel the bot was not invited to, or the id in the settings or a policy is wrong. Messages for it are retried; approvals meant for it are sent to the approvers by DM. Invite the bot there with /invite @access.`),
    );
  }

  /** A channel as it is; a person's DM, opened once (conversations.open) and remembered. */
  private async channelFor(target: Target): Promise<{ channel: string; remembered: boolean }> {
    if (target.kind === 'channel') return { channel: target.channel, remembered: false };
    const slackUserId = await this.slackUserFor(target.directoryId);
    return openDm(this.deps.store, () => this.now(), this.client, this.gate, slackUserId);
  }

  private async slackUserFor(directoryId: string): Promise<string> {
    const bound = this.deps.store.bindingForPerson(directoryId);
    if (bound) return bound.slackUserId;
    const person = await this.deps.directory.getPerson(directoryId);
    if (!person) throw new PermanentError(`${directoryId} is not in the directory; nobody to message`);
    try {
      const found = await this.gate.call('users.lookupByEmail', () => this.client.users.lookupByEmail({ email: person.email }));
      if (!found.user?.id) throw new PermanentError(`users.lookupByEmail ${person.email}: no user in the answer`);
      return found.user.id;
    } catch (error) {
      if (error instanceof PermanentError || error instanceof TransientError) throw error;
      throw classifySlackError(error, `users.lookupByEmail ${person.email}`);
    }
  }

  private async groupTargets(group: string): Promise<Target[]> {
    const members = await this.deps.directory.membersOf(group);
    return members.filter((m) => m.active).map((m) => ({ kind: 'person' as const, directoryId: m.id }));
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/** A configured channel the bot cannot see: retried, and an approval step is asked by DM meanwhile. */
class UnreachableChannelError extends TransientError {
  constructor(readonly channel: string, message: string, options?: { cause?: unknown }) {
    super(message, undefined, options);
  }
}

function toTarget(recipient: Exclude<Recipient, { kind: 'group' }>): Target {
  return recipient.kind === 'channel' ? { kind: 'channel', channel: recipient.channel } : { kind: 'person', directoryId: recipient.directoryId };
}

function targetKey(target: Target): string {
  return target.kind === 'channel' ? `channel:${target.channel}` : `person:${target.directoryId}`;
}

function describeNotice(n: Notification): string {
  switch (n.type) {
    case 'task.assigned':
      return 'A manual access task needs doing. Mark it done when the access is in place (or removed).';
    case 'task.completed':
      return 'A manual access task was marked done.';
    default:
      return n.type;
  }
}
