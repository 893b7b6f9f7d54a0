/**
 * The Notifier port on Slack. Each notification is rendered from the current database state with
 * the block builders, so a retried job shows the truth when it is sent. What was posted is kept in
 * `slack_messages` (channel + ts per slot): the same slot is updated, never posted twice, which is
 * what makes a job's key one message, and what lets a decision update every copy of a step's
 * message. Failures throw TransientError/PermanentError for the job runner to retry or give up.
 */
import type { WebClient } from '@slack/web-api';
import { alertMessage } from '../../../blocks/alert-message.js';
import { approvalMessage, type SlackMessage } from '../../../blocks/approval-message.js';
import { taskMessage } from '../../../blocks/task-message.js';
import { requesterMessage, type RequesterEvent } from '../../../blocks/requester-message.js';
import { digestBlocks } from '../../../blocks/digest.js';
import type { Digest } from '../../domain/digest.js';
import { PermanentError } from '../../domain/errors.js';
import { assertNever, type Notification, type NotificationOf, type Recipient } from '../../domain/records.js';
import type { Deps } from '../../operations/context.js';
import type { ExportAttachment, Notifier, PostedMessages } from '../../operations/ports.js';
import { taskView } from './overview.js';
import { requestCard } from './request-card.js';
import { classifySlackError, platformError } from './slack-errors.js';

type NotifierDeps = Pick<Deps, 'store' | 'catalog' | 'settings' | 'directory' | 'clock' | 'logger'>;

/** Where one message goes: a channel as it is, or a person whose DM is opened when posting. */
type Target = { kind: 'channel'; channel: string } | { kind: 'person'; directoryId: string };

interface Meta {
  requestId: string | null;
  stepIndex: number | null;
  recipient: string;
  type: Notification['type'];
}

/** The notices that go to the requester's DM, one message per job key. */
type RequesterNotice = Extract<Notification, { type: RequesterEvent['type'] }>;

/** Terminal requester events also refresh the "submitted" DM, so its Cancel button goes away. */
const CLOSES_REQUEST = new Set<Notification['type']>(['request.approved', 'request.denied', 'request.cancelled', 'request.expired']);

export class SlackNotifier implements Notifier {
  readonly destination = 'slack';
  private readonly messages: PostedMessages;

  constructor(
    private readonly deps: NotifierDeps,
    private readonly client: WebClient,
  ) {
    this.messages = deps.store.messages;
  }

  async deliver(notification: Exclude<Notification, { type: 'digest' }>, key: string): Promise<void> {
    switch (notification.type) {
      case 'approval.requested':
      case 'approval.outcome':
        return this.deliverApproval(notification);
      case 'request.submitted':
      case 'step.approved':
      case 'request.approved':
      case 'request.denied':
      case 'request.cancelled':
      case 'request.expired':
      case 'grant.active':
      case 'grant.extended':
      case 'grant.reminder':
      case 'grant.revoked':
      case 'grant.provisioningFailed':
        return this.deliverToRequester(notification, key);
      case 'task.assigned':
        return this.deliverTask(notification);
      case 'task.completed':
        return this.settleTask(notification);
      case 'alert':
        return this.deliverAlert(notification, key);
      default:
        return assertNever(notification, 'notification');
    }
  }

  // ---- approval messages: one slot per request, step and recipient ----------------------------

  private async deliverApproval(n: NotificationOf<'approval.requested' | 'approval.outcome'>): Promise<void> {
    const card = await requestCard(this.deps, n.requestId);
    if (!card) throw new PermanentError(`request ${n.requestId} does not exist`);
    const step = card.steps.find((s) => s.index === n.stepIndex);
    if (!step) throw new PermanentError(`request ${n.requestId} has no step ${n.stepIndex}`);
    const target = toTarget(n.recipient);
    const recipient = targetKey(target);
    const slot = `approval:${card.id}:${step.index}:${recipient}`;
    if (!(await this.messages.get(slot))) {
      // Nothing to update; and a step no longer open needs nobody asked (a retried ask that lost the race).
      if (n.type === 'approval.outcome') return;
      if (step.status !== 'open' || card.status !== 'pending_approval') return;
    }
    const audience = target.kind === 'person' ? { kind: 'person' as const, directoryId: target.directoryId } : { kind: 'channel' as const };
    await this.postOrUpdate(slot, target, approvalMessage(card, step.index, audience), { requestId: card.id, stepIndex: step.index, recipient, type: n.type });
  }

  // ---- the requester's DM: one message per job key --------------------------------------------------

  private async deliverToRequester(n: RequesterNotice, key: string): Promise<void> {
    const requestId = 'requestId' in n ? n.requestId : (await this.deps.store.getGrant(n.grantId))?.requestId;
    const card = requestId ? await requestCard(this.deps, requestId) : undefined;
    if (!card) throw new PermanentError(`${n.type}: no request for ${'requestId' in n ? n.requestId : n.grantId}`);
    const event: RequesterEvent = n.type === 'step.approved'
      ? { type: n.type, stepIndex: n.stepIndex }
      : n.type === 'grant.reminder'
        ? { type: n.type, leadSeconds: n.leadSeconds }
        : { type: n.type };
    const target = toTarget(n.recipient);
    const stepIndex = n.type === 'step.approved' ? n.stepIndex : null;
    await this.postOrUpdate(`job:${key}`, target, requesterMessage(card, event), { requestId: card.id, stepIndex, recipient: targetKey(target), type: n.type });

    if (CLOSES_REQUEST.has(n.type)) {
      const submitted = await this.messages.get(`job:notify:submitted:${card.id}`);
      if (submitted) {
        try {
          await this.update(submitted.channel, submitted.ts, requesterMessage(card, { type: 'request.submitted' }));
          await this.messages.touch(submitted.slot, this.now());
        } catch (error) {
          // Only a stale Cancel button is left behind; its click is refused and explained.
          this.deps.logger.warn('could not refresh the submitted message', { requestId: card.id, error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
  }

  // ---- manual tasks: one copy per member of the assignee group, one slot per task and member ---------

  private async deliverTask(n: NotificationOf<'task.assigned'>): Promise<void> {
    const view = await taskView(this.deps, n.taskId);
    if (!view) throw new PermanentError(`task ${n.taskId} does not exist`);
    const targets = await this.groupTargets(n.recipient.group);
    const message = taskMessage(view);
    for (const target of targets) {
      // Nobody is asked to set up their own access (the core would refuse their Done anyway).
      if (target.kind === 'person' && target.directoryId === view.holder.directoryId) continue;
      const recipient = targetKey(target);
      const slot = `task:${view.taskId}:${recipient}`;
      // A task done before its message went out needs nobody asked (a retried job that lost the race).
      if (view.status === 'done' && !(await this.messages.get(slot))) continue;
      await this.postOrUpdate(slot, target, message, { requestId: view.requestId, stepIndex: null, recipient, type: 'task.assigned' });
    }
  }

  /** Done: every copy of the task message shows who completed it, and loses its button. */
  private async settleTask(n: NotificationOf<'task.completed'>): Promise<void> {
    const view = await taskView(this.deps, n.taskId);
    if (!view) throw new PermanentError(`task ${n.taskId} does not exist`);
    const message = taskMessage(view);
    for (const posted of await this.messages.withSlotPrefix(`task:${view.taskId}:`)) {
      try {
        await this.update(posted.channel, posted.ts, message);
        await this.messages.touch(posted.slot, this.now());
      } catch (error) {
        // A deleted copy has nothing to show; anything else is retried with the job.
        if (platformError(error) !== 'message_not_found') throw classifySlackError(error, `chat.update ${posted.slot}`);
      }
    }
  }

  // ---- alerts: the alerts channel, one message per job key --------------------------------------

  private async deliverAlert(n: NotificationOf<'alert'>, key: string): Promise<void> {
    const grant = n.grantId ? await this.deps.store.getGrant(n.grantId) : undefined;
    const entry = grant ? this.deps.catalog.find(grant.app, grant.role) : undefined;
    const message = alertMessage({
      text: n.text,
      at: this.now(),
      timezone: this.deps.settings.timezone,
      grant: grant && { id: grant.id, appName: entry?.app.name ?? grant.app, roleName: entry?.role.name ?? grant.role, holderName: grant.holder.name, holderEmail: grant.holder.email, status: grant.status },
      requestId: n.requestId ?? grant?.requestId,
    });
    const target = toTarget(n.recipient);
    await this.postOrUpdate(`job:${key}`, target, message, { requestId: n.requestId ?? grant?.requestId ?? null, stepIndex: null, recipient: targetKey(target), type: n.type });
  }

  // ---- the weekly digest: the message, then the week's requests CSV in its thread -------------------

  async publishDigest(input: { digest: Digest; channel: string; key: string; attachment: () => Promise<ExportAttachment> }): Promise<{ attached: boolean }> {
    const { digest, channel } = input;
    const slot = `job:${input.key}`;
    await this.postOrUpdate(slot, { kind: 'channel', channel }, digestBlocks(digest), { requestId: null, stepIndex: null, recipient: channel, type: 'digest' });
    const posted = (await this.messages.get(slot))!;
    // The full detail: the week's requests export, once per digest (a retry after a failed upload
    // uploads it; one after a successful upload does not).
    const fileSlot = `${slot}:csv`;
    if (await this.messages.get(fileSlot)) return { attached: false };
    const file = await input.attachment();
    const day = digest.periodEnd.slice(0, 10);
    try {
      await this.client.filesUploadV2({
        channel_id: posted.channel,
        thread_ts: posted.ts,
        file: file.bytes,
        filename: `access-requests-week-${day}.${file.extension}`,
        title: `Access requests, week ending ${day}`,
        initial_comment: `The week's requests in full: ${file.summary.rows} rows, SHA-256 \`${file.summary.sha256}\`, audit log head \`${file.summary.auditHead}\`.`,
      });
    } catch (error) {
      throw classifySlackError(error, `files upload ${fileSlot}`);
    }
    const now = this.now();
    await this.messages.save({ slot: fileSlot, channel: posted.channel, ts: posted.ts, requestId: null, stepIndex: null, recipient: channel, notificationType: 'digest', postedAt: now, updatedAt: now });
    return { attached: true };
  }

  // ---- posting ---------------------------------------------------------------------------------------

  private async postOrUpdate(slot: string, target: Target, message: SlackMessage, meta: Meta): Promise<void> {
    const posted = await this.messages.get(slot);
    if (posted) {
      try {
        await this.update(posted.channel, posted.ts, message);
        await this.messages.touch(slot, this.now());
        return;
      } catch (error) {
        // Someone deleted it: post it again below rather than lose the message.
        if (platformError(error) !== 'message_not_found') throw classifySlackError(error, `chat.update ${slot}`);
      }
    }
    const channel = await this.channelFor(target);
    let answer;
    try {
      answer = await this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
    } catch (error) {
      throw classifySlackError(error, `chat.postMessage ${slot}`);
    }
    if (!answer.channel || !answer.ts) throw new PermanentError(`chat.postMessage ${slot}: Slack answered without channel and ts`);
    // A crash between the post and this write would post once more on retry: the only window left.
    const now = this.now();
    await this.messages.save({ slot, channel: answer.channel, ts: answer.ts, requestId: meta.requestId, stepIndex: meta.stepIndex, recipient: meta.recipient, notificationType: meta.type, postedAt: now, updatedAt: now });
  }

  private async update(channel: string, ts: string, message: SlackMessage): Promise<void> {
    await this.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
  }

  /** A channel as it is; a person's DM, found through the identity binding or their email. */
  private async channelFor(target: Target): Promise<string> {
    if (target.kind === 'channel') return target.channel;
    const slackUserId = await this.slackUserFor(target.directoryId);
    try {
      const opened = await this.client.conversations.open({ users: slackUserId });
      if (!opened.channel?.id) throw new PermanentError(`conversations.open ${slackUserId}: no channel in the answer`);
      return opened.channel.id;
    } catch (error) {
      if (error instanceof PermanentError) throw error;
      throw classifySlackError(error, `conversations.open ${slackUserId}`);
    }
  }

  private async slackUserFor(directoryId: string): Promise<string> {
    const bound = await this.deps.store.bindingForPerson(directoryId);
    if (bound) return bound.slackUserId;
    const person = await this.deps.directory.getPerson(directoryId);
    if (!person) throw new PermanentError(`${directoryId} is not in the directory; nobody to message`);
    try {
      const found = await this.client.users.lookupByEmail({ email: person.email });
      if (!found.user?.id) throw new PermanentError(`users.lookupByEmail ${person.email}: no user in the answer`);
      return found.user.id;
    } catch (error) {
      if (error instanceof PermanentError) throw error;
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

function toTarget(recipient: Exclude<Recipient, { kind: 'group' }>): Target {
  return recipient.kind === 'channel' ? { kind: 'channel', channel: recipient.channel } : { kind: 'person', directoryId: recipient.directoryId };
}

function targetKey(target: Target): string {
  return target.kind === 'channel' ? `channel:${target.channel}` : `person:${target.directoryId}`;
}

