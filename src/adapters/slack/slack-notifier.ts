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
import { noticeMessage } from '../../../blocks/modals.js';
import { taskMessage } from '../../../blocks/task-message.js';
import { REQUESTER_EVENTS, requesterMessage, type RequesterEvent } from '../../../blocks/requester-message.js';
import { digestBlocks } from '../../../blocks/digest.js';
import { PermanentError } from '../../domain/errors.js';
import { buildDigest } from '../../operations/build-digest.js';
import { parseExportFilters } from '../../operations/exports/export-filters.js';
import { exportCsvToBuffer } from '../csv/export-csv.js';
import { SqliteExportSource } from '../db/export-reader.js';
import { SqliteStore } from '../db/sqlite-store.js';
import type { Notification, Recipient } from '../../domain/records.js';
import type { Deps, Notifier } from '../../operations/context.js';
import { taskView } from './overview.js';
import { requestCard } from './request-card.js';
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
  constructor(
    private readonly deps: NotifierDeps,
    private readonly client: WebClient,
    private readonly messages: SlackMessageStore,
  ) {}

  async deliver(notification: Notification, key: string): Promise<void> {
    if (notification.type === 'approval.requested' || notification.type === 'approval.outcome') {
      return this.deliverApproval(notification);
    }
    if (REQUESTER_EVENTS.has(notification.type)) return this.deliverToRequester(notification, key);
    if (notification.type === 'task.assigned') return this.deliverTask(notification);
    if (notification.type === 'task.completed' || notification.type === 'task.cancelled') return this.settleTask(notification);
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
      await this.postOrUpdate(slot, target, approvalMessage(card, step.index, audience), { requestId: card.id, stepIndex: step.index, recipient, type: n.type });
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
    if (!n.taskId) throw new PermanentError(`${n.type} without a task`);
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

  // ---- the weekly digest: the message, then the week's requests CSV in its thread -------------------

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
    try {
      await this.client.filesUploadV2({
        channel_id: posted.channel,
        thread_ts: posted.ts,
        file: buffer,
        filename: `access-requests-week-${day}.csv`,
        title: `Access requests, week ending ${day}`,
        initial_comment: `The week's requests in full: ${summary.rows} rows, SHA-256 \`${summary.sha256}\`, audit log head \`${summary.auditHead}\`.`,
      });
    } catch (error) {
      throw classifySlackError(error, `files upload ${csvSlot}`);
    }
    const now = this.now();
    this.messages.save({ slot: csvSlot, channel: posted.channel, ts: posted.ts, requestId: null, stepIndex: null, recipient: n.recipient.channel, notificationType: n.type, postedAt: now, updatedAt: now });
    this.deps.store.transaction((tx) =>
      tx.appendAudit({
        at: now,
        actor: { kind: 'system', component: 'digest' },
        action: 'digest.posted',
        details: { channel: posted.channel, periodStart: digest.periodStart, periodEnd: digest.periodEnd, auditHead: digest.auditHead.hash, sensitiveHolders: digest.sensitiveHolders.length, csv: { rows: summary.rows, sha256: summary.sha256 } },
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
    this.messages.save({ slot, channel: answer.channel, ts: answer.ts, requestId: meta.requestId, stepIndex: meta.stepIndex, recipient: meta.recipient, notificationType: meta.type, postedAt: now, updatedAt: now });
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
    const bound = this.deps.store.bindingForPerson(directoryId);
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
