/**
 * The Notifier port on Slack. Each notification is rendered from the current database state with
 * the block builders, so a retried job shows the truth when it is sent, with every date's fallback
 * in the reader's own zone. What was posted is kept in `slack_messages` (channel + ts per slot):
 * the same slot is updated, never posted twice, which is what makes a job's key one message, and
 * what lets a decision update every copy of a step's message. The requester's earlier messages
 * about a request are updated too whenever it moves on, so none keeps a button or a line that no
 * longer applies. Failures throw TransientError/PermanentError for the job runner to retry or give up.
 *
 * Every call goes through `SlackCallGate`, so a 429 pauses that method for all jobs. Each person's
 * DM channel is opened once and remembered. A configured channel the bot cannot see
 * (`channel_not_found`: private and not invited, or a wrong id) is reported to the alerts channel
 * and retried; an approval step that was to be asked there is asked by DM instead.
 */
import type { WebClient } from '@slack/web-api';
import { alertMessage } from '../../../blocks/alert-message.js';
import { checkpointMessage } from '../../../blocks/checkpoint-message.js';
import {
  approvalMessage,
  channelReminder,
  escalationNotice,
  type SlackMessage,
} from '../../../blocks/approval-message.js';
import { breakGlassAlert, breakGlassNotJustified, breakGlassOverdue } from '../../../blocks/break-glass.js';
import { delegationMessage } from '../../../blocks/delegation.js';
import { taskMessage } from '../../../blocks/task-message.js';
import { requesterMessage, type RequesterEvent } from '../../../blocks/requester-message.js';
import { digestBlocks } from '../../../blocks/digest.js';
import { LIMITS, truncateMrkdwn } from '../../../blocks/limits.js';
import type { ApprovalAudience, RequestCard } from '../../../blocks/view-models.js';
import { canonicalJson } from '../../domain/canonical.js';
import { PermanentError, TransientError } from '../../domain/errors.js';
import {
  assertNever,
  type Notification,
  type NotificationOf,
  type Recipient,
  type StepRecord,
} from '../../domain/records.js';
import type { Deps } from '../../operations/context.js';
import { delegationInForce, isStepApprover } from '../../operations/approver-rules.js';
import { alert } from '../../operations/lifecycle.js';
import type {
  DeliveredNotification,
  Notifier,
  PostedMessage,
  PostedMessages,
  PublishDigest,
  PublishReviewSummary,
} from '../../operations/ports.js';
import { reviewerList } from '../../operations/reviews/review-views.js';
import { REVIEW_PAGE_SIZE, reviewerListMessage, reviewReminderMessage } from '../../../blocks/review-message.js';
import { reviewSummaryMessage } from '../../../blocks/review-summary.js';
import { reviewPage } from './review-pages.js';
import type { DisplayLookups } from './display-lookups.js';
import { taskView } from './overview.js';
import { breakGlassView } from './break-glass-view.js';
import { personLabel, requestCard } from './request-card.js';
import { forgetDmChannel, openDm } from './dm-channels.js';
import { SlackCallGate } from './slack-call-gate.js';
import { classifySlackError, platformError } from './slack-errors.js';
import { campaignTerms } from '../../domain/reviews/review-version.js';

type NotifierDeps = Pick<Deps, 'store' | 'catalog' | 'settings' | 'directory' | 'clock' | 'logger'>;

/** Where one message goes: a channel as it is, or a person whose DM is opened when posting. */
type Target = { kind: 'channel'; channel: string } | { kind: 'person'; directoryId: string };

interface Meta {
  requestId: string | null;
  stepIndex: number | null;
  recipient: string;
  type: Notification['type'];
}

/**
 * The requester's messages that read the request's state: the status message and the notices that
 * carry buttons or times. Each is re-rendered when the request moves on.
 */
const KEPT_TRUE = new Set<Notification['type']>([
  'request.submitted',
  'step.approved',
  'step.escalated',
  'request.approved',
  'grant.active',
  'grant.reminder',
  'grant.provisioningDelayed',
]);
/** Rendered messages remembered per slot, so an update that would change nothing is not sent. */
const RENDERED_KEPT = 5000;
/** How long a users.lookupByEmail answer is reused (one message's zone and DM, a burst of messages). */
const LOOKUP_TTL_MS = 5 * 60 * 1000;

/** The notices that go to the requester's DM. */
type RequesterNotice = Extract<Notification, { type: RequesterEvent['type'] }>;

export class SlackNotifier implements Notifier {
  readonly destination = 'slack';
  private readonly messages: PostedMessages;
  /**
   * What this process last sent to each slot, with the slot's stored `updatedAt` after it sent it.
   * Another replica that updated the message since has changed `updatedAt`, so the entry no longer
   * matches and the update is sent: a stale entry costs a call, never a skipped change.
   */
  private readonly rendered = new Map<string, { message: string; updatedAt: string }>();
  /** Slack users found by email for people not bound yet (their first DM), briefly. */
  private readonly lookedUp = new Map<string, { slackUserId: string; at: number }>();

  private readonly gate: SlackCallGate;

  constructor(
    private readonly deps: NotifierDeps,
    private readonly client: WebClient,
    private readonly display: DisplayLookups,
    gate?: SlackCallGate,
  ) {
    this.messages = deps.store.messages;
    this.gate = gate ?? new SlackCallGate({ clock: deps.clock, logger: deps.logger });
  }

  async deliver(notification: DeliveredNotification, key: string): Promise<void> {
    switch (notification.type) {
      case 'approval.requested':
      case 'approval.outcome':
        return this.deliverApproval(notification);
      case 'approval.reminder':
        return this.deliverApprovalReminder(notification, key);
      case 'approval.escalated':
        return this.deliverEscalationNotice(notification, key);
      case 'request.submitted':
      case 'step.approved':
      case 'step.escalated':
      case 'breakGlass.reviewed':
      case 'request.approved':
      case 'request.denied':
      case 'request.cancelled':
      case 'request.expired':
      case 'grant.active':
      case 'grant.extended':
      case 'grant.reminder':
      case 'grant.revoked':
      case 'grant.provisioningFailed':
      case 'grant.provisioningDelayed':
        return this.deliverToRequester(notification, key);
      case 'task.assigned':
        return this.deliverTask(notification);
      case 'task.completed':
      case 'task.cancelled':
        return this.settleTask(notification);
      case 'alert':
        return this.deliverAlert(notification, key);
      case 'breakGlass.alert':
        return this.deliverBreakGlassAlert(notification);
      case 'breakGlass.notJustified':
        return this.deliverBreakGlassNotJustified(notification, key);
      case 'breakGlass.overdue':
        return this.deliverBreakGlassOverdue(notification);
      case 'delegation.started':
      case 'delegation.ended':
        return this.deliverDelegation(notification, key);
      case 'audit.checkpoint':
        return this.deliverCheckpoint(notification, key);
      case 'review.assigned':
      case 'review.updated':
        return this.deliverReviewerList(notification);
      case 'review.reminder':
        return this.deliverReviewReminder(notification, key);
      default:
        return assertNever(notification, 'notification');
    }
  }

  // ---- approval messages: one slot per request, step and recipient ----------------------------

  private async deliverApproval(n: NotificationOf<'approval.requested' | 'approval.outcome'>): Promise<void> {
    // The stored steps are read once: for the card, for who reads each DM, and for the DMs that
    // replace a channel nobody can see.
    const steps = await this.deps.store.getSteps(n.requestId);
    const stored = await requestCard(this.deps, n.requestId, undefined, steps);
    if (!stored) throw new PermanentError(`request ${n.requestId} does not exist`);
    let card = stored;
    const step = card.steps.find((s) => s.index === n.stepIndex);
    const stepRecord = steps.find((s) => s.index === n.stepIndex);
    if (!step || !stepRecord) throw new PermanentError(`request ${n.requestId} has no step ${n.stepIndex}`);
    const targets = [toTarget(n.recipient)];
    // A `notify:` step whose channel the bot could not see was asked by DM: those copies follow too.
    if (n.type === 'approval.outcome' && n.recipient.kind === 'channel') {
      const prefix = `approval:${card.id}:${step.index}:person:`;
      for (const posted of await this.messages.withSlotPrefix(prefix)) {
        targets.push({ kind: 'person', directoryId: posted.slot.slice(prefix.length) });
      }
    }
    for (const target of targets) {
      const recipient = targetKey(target);
      const slot = `approval:${card.id}:${step.index}:${recipient}`;
      const posted = await this.messages.get(slot);
      if (!posted) {
        // Nothing to update; and a step no longer open needs nobody asked (a retried ask that lost the race).
        if (n.type === 'approval.outcome') continue;
        if (step.status !== 'open' || card.status !== 'pending_approval') continue;
      }
      const audience =
        target.kind === 'person'
          ? await this.approverAudience(stepRecord, target.directoryId)
          : { kind: 'channel' as const };
      card = { ...stored, timezone: await this.zoneFor(target) };
      const meta = { requestId: card.id, stepIndex: step.index, recipient, type: n.type };
      try {
        await this.postOrUpdate(slot, target, approvalMessage(card, step.index, audience), meta);
        // The reminders sent to this person carry the same buttons: they show the outcome too.
        if (n.type === 'approval.outcome' && target.kind === 'person') {
          for (const copy of await this.messages.withSlotPrefix(`${slot}:`))
            await this.updateIfChanged(copy, approvalMessage(card, step.index, audience));
        }
      } catch (error) {
        if (!(error instanceof UnreachableChannelError) || n.type !== 'approval.requested') throw error;
        // Nobody can see the channel: the step's approvers are asked by DM, so no step waits on a
        // message nobody reads. Any of them decides as they would in the channel.
        const approvers = stepRecord.approvers;
        this.deps.logger.warn('approval channel unreachable; asking the approvers by DM', {
          requestId: card.id,
          step: step.index + 1,
          channel: error.channel,
          approvers: approvers.length,
        });
        for (const approver of approvers) {
          const dm: Target = { kind: 'person', directoryId: approver.directoryId };
          const theirs = { ...stored, timezone: await this.zoneFor(dm) };
          const message = approvalMessage(theirs, step.index, { kind: 'person', directoryId: approver.directoryId });
          const dmSlot = `approval:${card.id}:${step.index}:${targetKey(dm)}`;
          await this.postOrUpdate(dmSlot, dm, message, { ...meta, recipient: targetKey(dm) });
        }
      }
    }
  }

  /**
   * Who reads an approval DM: an approver, or the delegate of one (then the message says in whose
   * place). Read from the stored step and the delegations in force.
   */
  private async approverAudience(step: StepRecord, directoryId: string): Promise<ApprovalAudience> {
    if (isStepApprover(step, directoryId)) return { kind: 'person', directoryId };
    const now = this.now();
    const through = (await this.deps.store.activeDelegationsTo(directoryId)).find(
      (d) => delegationInForce(d, now) && isStepApprover(step, d.delegator.directoryId),
    );
    return through
      ? { kind: 'person', directoryId, forPerson: personLabel(through.delegator) }
      : { kind: 'person', directoryId };
  }

  /**
   * A pending approver's reminder: a DM with the request's buttons (a copy the outcome updates too),
   * or a reply under the step's channel message. Nothing is sent once the step is decided.
   */
  private async deliverApprovalReminder(n: NotificationOf<'approval.reminder'>, key: string): Promise<void> {
    const steps = await this.deps.store.getSteps(n.requestId);
    const stored = await requestCard(this.deps, n.requestId, undefined, steps);
    if (!stored) throw new PermanentError(`request ${n.requestId} does not exist`);
    const step = steps.find((s) => s.index === n.stepIndex);
    if (!step || step.status !== 'open' || stored.status !== 'pending_approval') return;
    const target = toTarget(n.recipient);
    const card = { ...stored, timezone: await this.zoneFor(target) };
    if (target.kind === 'channel') {
      const main = await this.messages.get(`approval:${card.id}:${step.index}:${targetKey(target)}`);
      const meta = { requestId: card.id, stepIndex: step.index, recipient: targetKey(target), type: n.type };
      await this.postOrUpdate(`job:${key}`, target, channelReminder(card, step.index, n.leadSeconds), meta, main?.ts);
      return;
    }
    const audience = await this.approverAudience(step, target.directoryId);
    const slot = `approval:${card.id}:${step.index}:${targetKey(target)}:reminder-${n.leadSeconds}`;
    const message = approvalMessage(card, step.index, audience, { reminderAfterSeconds: n.leadSeconds });
    await this.postOrUpdate(slot, target, message, {
      requestId: card.id,
      stepIndex: step.index,
      recipient: targetKey(target),
      type: n.type,
    });
  }

  /** The step escalated: its earlier approvers hear it (a DM each, or a reply under the channel message). */
  private async deliverEscalationNotice(n: NotificationOf<'approval.escalated'>, key: string): Promise<void> {
    const stored = await requestCard(this.deps, n.requestId);
    if (!stored) throw new PermanentError(`request ${n.requestId} does not exist`);
    const target = toTarget(n.recipient);
    const card = { ...stored, timezone: await this.zoneFor(target) };
    const main =
      target.kind === 'channel'
        ? await this.messages.get(`approval:${card.id}:${n.stepIndex}:${targetKey(target)}`)
        : undefined;
    const meta = { requestId: card.id, stepIndex: n.stepIndex, recipient: targetKey(target), type: n.type };
    await this.postOrUpdate(`job:${key}`, target, escalationNotice(card, n.stepIndex), meta, main?.ts);
  }

  // ---- break-glass: the alert in the security channel, and the admins' DMs when it is overdue -------

  /** One alert per grant and channel, updated in place as it is reviewed or revoked (the admins' DMs too). */
  private async deliverBreakGlassAlert(n: NotificationOf<'breakGlass.alert'>): Promise<void> {
    const view = await breakGlassView(this.deps, n.grantId, this.display.botZone);
    if (!view) throw new PermanentError(`break-glass grant ${n.grantId} does not exist`);
    const target = toTarget(n.recipient);
    const slot = `break-glass:${n.grantId}:${targetKey(target)}`;
    await this.postOrUpdate(slot, target, breakGlassAlert(view), {
      requestId: view.requestId,
      stepIndex: null,
      recipient: targetKey(target),
      type: n.type,
    });
    for (const copy of await this.messages.withSlotPrefix(`break-glass-overdue:${n.grantId}:`)) {
      const day = Number(/:day-(\d+):/.exec(copy.slot)?.[1] ?? 0);
      const reader = copy.recipient.startsWith('person:')
        ? await this.zoneFor({ kind: 'person', directoryId: copy.recipient.slice('person:'.length) })
        : this.display.botZone;
      try {
        await this.updateIfChanged(copy, breakGlassOverdue({ ...view, timezone: reader }, day));
      } catch (error) {
        this.deps.logger.warn('could not bring an overdue break-glass message up to date', {
          slot: copy.slot,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  private async deliverBreakGlassNotJustified(
    n: NotificationOf<'breakGlass.notJustified'>,
    key: string,
  ): Promise<void> {
    const view = await breakGlassView(this.deps, n.grantId, this.display.botZone);
    if (!view) throw new PermanentError(`break-glass grant ${n.grantId} does not exist`);
    const target = toTarget(n.recipient);
    await this.postOrUpdate(`job:${key}`, target, breakGlassNotJustified(view), {
      requestId: view.requestId,
      stepIndex: null,
      recipient: targetKey(target),
      type: n.type,
    });
  }

  /** Every active admin but the holder gets a DM, once per overdue day; it loses its buttons once reviewed. */
  private async deliverBreakGlassOverdue(n: NotificationOf<'breakGlass.overdue'>): Promise<void> {
    const view = await breakGlassView(this.deps, n.grantId);
    if (!view) throw new PermanentError(`break-glass grant ${n.grantId} does not exist`);
    if (view.review.status !== 'pending') return;
    for (const target of await this.groupTargets(n.recipient.group)) {
      if (target.kind === 'person' && target.directoryId === view.holder.directoryId) continue;
      const recipient = targetKey(target);
      const slot = `break-glass-overdue:${n.grantId}:day-${n.day}:${recipient}`;
      const message = breakGlassOverdue({ ...view, timezone: await this.zoneFor(target) }, n.day);
      await this.postOrUpdate(slot, target, message, {
        requestId: view.requestId,
        stepIndex: null,
        recipient,
        type: n.type,
      });
    }
  }

  // ---- delegations: the delegate hears it started; both hear it ended ------------------------------

  private async deliverDelegation(
    n: NotificationOf<'delegation.started' | 'delegation.ended'>,
    key: string,
  ): Promise<void> {
    const delegation = await this.deps.store.getDelegation(n.delegationId);
    if (!delegation) throw new PermanentError(`delegation ${n.delegationId} does not exist`);
    const target = toTarget(n.recipient);
    const reader = n.recipient.directoryId === delegation.delegate.directoryId ? 'delegate' : 'delegator';
    const message = delegationMessage({
      delegationId: delegation.id,
      delegator: personLabel(delegation.delegator),
      delegate: personLabel(delegation.delegate),
      endsAt: delegation.endsAt,
      // The message says what happened: a start stays a start even if read after the end.
      status: n.type === 'delegation.started' ? 'active' : 'ended',
      endedAt: delegation.endedAt,
      endedReason: delegation.endedReason,
      reader,
      timezone: await this.zoneFor(target),
    });
    await this.postOrUpdate(`job:${key}`, target, message, {
      requestId: null,
      stepIndex: null,
      recipient: targetKey(target),
      type: n.type,
    });
  }

  // ---- the requester's DM: a status message per request, and the notices they must hear at once -----

  private async deliverToRequester(n: RequesterNotice, key: string): Promise<void> {
    const grantId = 'grantId' in n ? n.grantId : undefined;
    const grantRequestId = grantId ? (await this.deps.store.getGrant(grantId))?.requestId : undefined;
    const requestId = 'requestId' in n ? n.requestId : grantRequestId;
    if (!requestId || !(await this.deps.store.getRequest(requestId)))
      throw new PermanentError(`${n.type}: no request for ${requestId ?? grantId ?? 'nothing'}`);
    const target = toTarget(n.recipient);
    const card = await this.readerCard(requestId, await this.zoneFor(target));
    const slot = `job:${key}`;
    const stepIndex = n.type === 'step.approved' || n.type === 'step.escalated' ? n.stepIndex : null;
    const event: RequesterEvent =
      n.type === 'step.approved' || n.type === 'step.escalated'
        ? { type: n.type, stepIndex: n.stepIndex }
        : n.type === 'grant.reminder'
          ? { type: n.type, leadSeconds: n.leadSeconds }
          : { type: n.type };
    if (this.postsNew(event, card)) {
      await this.postOrUpdate(slot, target, requesterMessage(card, event), {
        requestId: card.id,
        stepIndex,
        recipient: targetKey(target),
        type: n.type,
      });
    }
    await this.keepRequesterMessagesTrue(card, slot);
    // An extension is a request of its own: the grant's first request holds the active message and the reminders.
    if (grantRequestId && grantRequestId !== card.id)
      await this.keepRequesterMessagesTrue(await this.readerCard(grantRequestId, card.timezone), slot);
  }

  /**
   * Whether an event is a new message, or only moves the status message on (updated in place, as
   * the review of "five DMs per request" asked): a step approved as asked, an approval whose access
   * is set up by the bot at once (the "You now have" message follows), a cancellation the person
   * made themselves.
   */
  private postsNew(event: RequesterEvent, card: RequestCard): boolean {
    switch (event.type) {
      case 'step.approved': {
        const step = card.steps.find((s) => s.index === event.stepIndex);
        return step?.decisions.some((d) => d.decision === 'approve' && d.shortenedToSeconds !== null) ?? false;
      }
      case 'request.approved':
        return card.kind === 'access' && card.provisioning.kind === 'manual';
      case 'request.cancelled':
        return false;
      default:
        return true;
    }
  }

  /** The request as its requester reads it: their zone, the names of people not yet asked, who revoked. */
  private async readerCard(requestId: string, timezone: string): Promise<RequestCard> {
    const card = (await requestCard(this.deps, requestId, timezone))!;
    const steps = await Promise.all(
      card.steps.map(async (step) => {
        if (step.approver.kind !== 'user' || step.approverNames.length > 0) return step;
        const name = await this.display.personName(step.approver.user);
        return name ? { ...step, approverNames: [name] } : step;
      }),
    );
    const revokedBy = card.grant?.revokedBy;
    const revokedByName =
      revokedBy && !revokedBy.startsWith('system:')
        ? await this.display.personName(revokedBy, { withTitle: false })
        : null;
    return { ...card, steps, grant: card.grant && { ...card.grant, revokedByName } };
  }

  /**
   * Re-renders the requester's earlier messages about this request from its state now (except the
   * one just posted): Cancel goes once it is decided, Extend and I'm done once the access ended,
   * the deadline once nobody needs to decide, the old end time once it was extended.
   */
  private async keepRequesterMessagesTrue(card: RequestCard, except: string): Promise<void> {
    const earlier = (await this.messages.forRequest(card.id)).filter(
      (m) =>
        m.slot !== except && m.slot.startsWith('job:') && KEPT_TRUE.has(m.notificationType as Notification['type']),
    );
    for (const posted of earlier) {
      const event = this.eventOf(posted);
      try {
        await this.updateIfChanged(posted, requesterMessage(card, event));
      } catch (error) {
        // Only a stale line or button is left behind; its click is refused and explained.
        this.deps.logger.warn('could not bring an earlier message up to date', {
          slot: posted.slot,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  private eventOf(posted: PostedMessage): RequesterEvent {
    switch (posted.notificationType) {
      case 'step.approved':
      case 'step.escalated':
        return { type: posted.notificationType, stepIndex: posted.stepIndex ?? 0 };
      case 'grant.reminder':
        // "Ends in 1 hour" was true when it was sent; now it says when, as things stand.
        return { type: 'grant.reminder', leadSeconds: null };
      default:
        return { type: posted.notificationType } as RequesterEvent;
    }
  }

  // ---- manual tasks: one copy per member of the assignee group, one slot per task and member ---------

  private async deliverTask(n: NotificationOf<'task.assigned'>): Promise<void> {
    const view = await taskView(this.deps, n.taskId);
    if (!view) throw new PermanentError(`task ${n.taskId} does not exist`);
    const targets = await this.groupTargets(n.recipient.group);
    for (const target of targets) {
      // Nobody is asked to set up their own access (the core would refuse their Done anyway).
      if (target.kind === 'person' && target.directoryId === view.holder.directoryId) continue;
      const recipient = targetKey(target);
      const slot = `task:${view.taskId}:${recipient}`;
      // A task done before its message went out needs nobody asked (a retried job that lost the race).
      if (view.status === 'done' && !(await this.messages.get(slot))) continue;
      const message = taskMessage({ ...view, timezone: await this.zoneFor(target) });
      await this.postOrUpdate(slot, target, message, {
        requestId: view.requestId,
        stepIndex: null,
        recipient,
        type: 'task.assigned',
      });
    }
  }

  /** Done: every copy of the task message shows who completed it, and loses its button. */
  private async settleTask(n: NotificationOf<'task.completed' | 'task.cancelled'>): Promise<void> {
    const view = await taskView(this.deps, n.taskId);
    if (!view) throw new PermanentError(`task ${n.taskId} does not exist`);
    for (const posted of await this.messages.withSlotPrefix(`task:${view.taskId}:`)) {
      const reader = posted.recipient.startsWith('person:')
        ? await this.zoneFor({ kind: 'person', directoryId: posted.recipient.slice('person:'.length) })
        : this.display.botZone;
      const message = taskMessage({ ...view, timezone: reader });
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
      grant: grant && {
        id: grant.id,
        appName: entry?.app.name ?? grant.app,
        roleName: entry?.role.name ?? grant.role,
        holderName: grant.holder.name,
        holderEmail: grant.holder.email,
        status: grant.status,
        durationSeconds: grant.durationSeconds,
      },
      requestId: n.requestId ?? grant?.requestId,
    });
    const target = toTarget(n.recipient);
    await this.postOrUpdate(`job:${key}`, target, message, {
      requestId: n.requestId ?? grant?.requestId ?? null,
      stepIndex: null,
      recipient: targetKey(target),
      type: n.type,
    });
  }

  // ---- audit checkpoints: the checkpoint channel, one message per checkpoint ---------------------

  private async deliverCheckpoint(n: NotificationOf<'audit.checkpoint'>, key: string): Promise<void> {
    const c = n.checkpoint;
    const message = checkpointMessage({
      line: canonicalJson(c),
      seq: c.seq,
      hash: c.hash,
      at: c.at,
      keyId: c.key_id,
      timezone: this.deps.settings.timezone,
    });
    const target = toTarget(n.recipient);
    await this.postOrUpdate(`job:${key}`, target, message, {
      requestId: null,
      stepIndex: null,
      recipient: targetKey(target),
      type: n.type,
    });
  }

  // ---- access reviews: one list per reviewer and campaign, updated in place; reminders; the summary ----

  private async deliverReviewerList(n: NotificationOf<'review.assigned' | 'review.updated'>): Promise<void> {
    const reviewerId = n.recipient.directoryId;
    const slot = `review:${n.campaignId}:${reviewerId}`;
    // An update of a list never posted (its first message failed and is retried on its own) waits for it.
    if (n.type === 'review.updated' && !(await this.messages.get(slot))) return;
    const target = toTarget(n.recipient);
    const page = await reviewPage(this.deps.store, n.campaignId, reviewerId);
    const list = await reviewerList(this.deps, {
      campaignId: n.campaignId,
      reviewerId,
      page,
      pageSize: REVIEW_PAGE_SIZE,
    });
    if (!list) throw new PermanentError(`review campaign ${n.campaignId} does not exist`);
    const reviewer = (await this.deps.store.getReviewer(n.campaignId, reviewerId))?.reviewer;
    const { undecided, remediate } = campaignTerms(list.campaign);
    const message = reviewerListMessage({
      campaignId: list.campaign.id,
      reviewName: list.campaign.reviewName,
      status: list.campaign.status,
      dueAt: list.campaign.dueAt,
      closedAt: list.campaign.closedAt,
      undecided,
      remediate,
      reviewer: { directoryId: reviewerId, name: reviewer?.name ?? '' },
      total: list.total,
      pending: list.pending,
      decided: list.decided,
      page: list.page,
      pageCount: list.pageCount,
      items: list.items,
      accessNames: list.accessNames,
      timezone: await this.zoneFor(target),
    });
    await this.postOrUpdate(slot, target, message, {
      requestId: null,
      stepIndex: null,
      recipient: targetKey(target),
      type: n.type,
    });
  }

  private async deliverReviewReminder(n: NotificationOf<'review.reminder'>, key: string): Promise<void> {
    const campaign = await this.deps.store.getReviewCampaign(n.campaignId);
    const progress = (await this.deps.store.reviewerProgress(n.campaignId, n.recipient.directoryId))[0];
    // Never a reminder to someone with nothing left (they finished after it was queued), nor after the close.
    if (!campaign || campaign.status !== 'open' || !progress || progress.pending === 0) return;
    const target = toTarget(n.recipient);
    const message = reviewReminderMessage({
      reviewName: campaign.reviewName,
      pending: progress.pending,
      total: progress.assigned,
      dueAt: campaign.dueAt,
      leadSeconds: n.leadSeconds,
      timezone: await this.zoneFor(target),
    });
    await this.postOrUpdate(`job:${key}`, target, message, {
      requestId: null,
      stepIndex: null,
      recipient: targetKey(target),
      type: n.type,
    });
  }

  async publishReviewSummary(input: PublishReviewSummary): Promise<{ attached: boolean }> {
    const campaign = input.summary.campaign;
    const slot = `review-summary:${campaign.id}`;
    const target = { kind: 'channel' as const, channel: input.channel };
    const message = reviewSummaryMessage(input.summary, this.display.botZone);
    await this.postOrUpdate(slot, target, message, {
      requestId: null,
      stepIndex: null,
      recipient: input.channel,
      type: 'review.summary',
    });
    const posted = (await this.messages.get(slot))!;
    const fileSlot = `${slot}:csv`;
    if (await this.messages.get(fileSlot)) return { attached: false };
    const file = await input.attachment();
    const name = `access-review-${campaign.reviewId}-${campaign.id}.${file.extension}`;
    try {
      await this.gate.call('files.completeUploadExternal', () =>
        this.client.filesUploadV2({
          channel_id: posted.channel,
          thread_ts: posted.ts,
          file_uploads: [
            {
              file: file.bytes,
              filename: name,
              title: `Access review evidence: ${campaign.reviewName} (${campaign.id})`,
            },
          ],
          initial_comment:
            `Every item of the review: ${file.summary.rows} rows (the population was ${campaign.populationCount}), ` +
            `SHA-256 \`${file.summary.sha256}\`, audit log head \`${file.summary.auditHead}\`.`,
        }),
      );
    } catch (error) {
      if (error instanceof TransientError) throw error;
      throw classifySlackError(error, `files upload ${fileSlot}`);
    }
    const now = this.now();
    await this.messages.save({
      slot: fileSlot,
      channel: posted.channel,
      ts: posted.ts,
      requestId: null,
      stepIndex: null,
      recipient: input.channel,
      notificationType: 'review.summary',
      postedAt: now,
      updatedAt: now,
    });
    return { attached: true };
  }

  // ---- the weekly digest: the message, then its lists in full and the week's requests CSV in its thread ----

  async publishDigest(input: PublishDigest): Promise<{ attached: boolean }> {
    const { digest, channel } = input;
    const slot = `job:${input.key}`;
    await this.postOrUpdate(slot, { kind: 'channel', channel }, digestBlocks(digest), {
      requestId: null,
      stepIndex: null,
      recipient: channel,
      type: 'digest',
    });
    const posted = (await this.messages.get(slot))!;
    // The full detail: every list of the digest (the message shows counts and the top lines) and
    // the week's requests export, once per digest (a retry after a failed upload uploads them; one
    // after a successful upload does not).
    const fileSlot = `${slot}:csv`;
    if (await this.messages.get(fileSlot)) return { attached: false };
    const file = await input.attachment();
    const day = digest.periodEnd.slice(0, 10);
    try {
      await this.gate.call('files.completeUploadExternal', () =>
        this.client.filesUploadV2({
          channel_id: posted.channel,
          thread_ts: posted.ts,
          file_uploads: [
            {
              file: file.lists.bytes,
              filename: `access-digest-week-${day}.${file.extension}`,
              title: `Access digest, every list in full, week ending ${day}`,
            },
            {
              file: file.requests.bytes,
              filename: `access-requests-week-${day}.${file.extension}`,
              title: `Access requests, week ending ${day}`,
            },
          ],
          initial_comment:
            `Every list of the digest in full: ${file.lists.rows} rows, SHA-256 \`${file.lists.sha256}\`. ` +
            `The week's requests: ${file.requests.summary.rows} rows, SHA-256 \`${file.requests.summary.sha256}\`, ` +
            `audit log head \`${file.requests.summary.auditHead}\`.`,
        }),
      );
    } catch (error) {
      if (error instanceof TransientError) throw error;
      throw classifySlackError(error, `files upload ${fileSlot}`);
    }
    const now = this.now();
    await this.messages.save({
      slot: fileSlot,
      channel: posted.channel,
      ts: posted.ts,
      requestId: null,
      stepIndex: null,
      recipient: channel,
      notificationType: 'digest',
      postedAt: now,
      updatedAt: now,
    });
    return { attached: true };
  }

  // ---- posting ---------------------------------------------------------------------------------------

  /** Posts the slot's message, or updates it if it was posted; `threadTs`: posted as a reply in that thread. */
  private async postOrUpdate(
    slot: string,
    target: Target,
    message: SlackMessage,
    meta: Meta,
    threadTs?: string,
  ): Promise<void> {
    const posted = await this.messages.get(slot);
    if (posted) {
      try {
        await this.updateIfChanged(posted, message);
        return;
      } catch (error) {
        // Someone deleted it: post it again below rather than lose the message.
        const deleted = !(error instanceof TransientError) && platformError(error) === 'message_not_found';
        if (!deleted) throw await this.failure(error, `chat.update ${slot}`, target);
      }
    }
    const answer = await this.post(slot, target, message, threadTs);
    if (!answer.channel || !answer.ts)
      throw new PermanentError(`chat.postMessage ${slot}: Slack answered without channel and ts`);
    // A crash between the post and this write would post once more on retry: the only window left.
    const now = this.now();
    await this.messages.save({
      slot,
      channel: answer.channel,
      ts: answer.ts,
      requestId: meta.requestId,
      stepIndex: meta.stepIndex,
      recipient: meta.recipient,
      notificationType: meta.type,
      postedAt: now,
      updatedAt: now,
    });
    this.remember(slot, message, now);
  }

  private async post(
    slot: string,
    target: Target,
    message: SlackMessage,
    threadTs?: string,
  ): Promise<{ channel?: string; ts?: string }> {
    for (;;) {
      const { channel, remembered } = await this.channelFor(target);
      try {
        const thread = threadTs ? { thread_ts: threadTs } : {};
        const send = () =>
          this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, ...thread });
        return await this.gate.call('chat.postMessage', send, channel);
      } catch (error) {
        // A remembered DM channel Slack no longer knows: forget it and open the DM again.
        const gone = remembered && platformError(error) === 'channel_not_found';
        if (gone && (await forgetDmChannel(this.deps.store, channel))) continue;
        throw await this.failure(error, `chat.postMessage ${slot}`, target);
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
  private async failure(error: unknown, what: string, target: Target): Promise<Error> {
    if (error instanceof TransientError || error instanceof PermanentError) return error;
    if (target.kind === 'channel' && platformError(error) === 'channel_not_found') {
      await this.reportUnreachableChannel(target.channel);
      const why =
        `${what}: Slack answered channel_not_found for ${target.channel}: ` +
        'the bot is not in that private channel (invite it with /invite @access), or the id is wrong';
      return new UnreachableChannelError(target.channel, why, { cause: error });
    }
    return classifySlackError(error, what);
  }

  private async reportUnreachableChannel(channel: string): Promise<void> {
    const alerts = this.deps.settings.alertsChannel;
    if (channel === alerts) {
      this.deps.logger.error(
        'THE ALERTS CHANNEL IS UNREACHABLE: Slack answers channel_not_found; ' +
          'alerts cannot be delivered until the bot is invited',
        { channel, fix: `invite the bot to ${channel} (/invite @access), or correct alerts_channel in settings.yml` },
      );
      return;
    }
    const fix = `invite the bot to ${channel} (/invite @access), or correct the channel id`;
    this.deps.logger.error('a configured channel is unreachable (channel_not_found)', { channel, fix });
    const now = this.now();
    // Once a day per channel, however many messages fail meanwhile.
    const key = `channel-unreachable:${channel}:${now.slice(0, 10)}`;
    if (await this.deps.store.getJobByKey(`notify:alert:${key}`)) return;
    await this.deps.store.transaction((tx) =>
      alert(
        tx,
        now,
        alerts,
        key,
        `The bot cannot post in <#${channel}>: Slack answers channel_not_found, ` +
          'so it is a private channel the bot was not invited to, or the id in the settings or a policy is wrong. ' +
          'Messages for it are retried; approvals meant for it are sent to the approvers by DM. ' +
          'Invite the bot there with /invite @access.',
      ),
    );
  }

  /** chat.update, unless this process already sent exactly this (updates are rate-limited: spend them on changes). */
  private async updateIfChanged(posted: PostedMessage, message: SlackMessage): Promise<void> {
    const sent = this.rendered.get(posted.slot);
    if (sent && sent.updatedAt === posted.updatedAt && sent.message === JSON.stringify(message)) return;
    await this.update(posted.channel, posted.ts, message);
    const now = this.now();
    await this.messages.touch(posted.slot, now);
    this.remember(posted.slot, message, now);
  }

  private remember(slot: string, message: SlackMessage, updatedAt: string): void {
    this.rendered.delete(slot);
    this.rendered.set(slot, { message: JSON.stringify(message), updatedAt });
    if (this.rendered.size > RENDERED_KEPT) this.rendered.delete(this.rendered.keys().next().value!);
  }

  /** The zone the target reads times in: a person's own (Slack's users.info), the bot's for a channel. */
  private async zoneFor(target: Target): Promise<string> {
    if (target.kind === 'channel') return this.display.botZone;
    try {
      return await this.display.zoneOf(this.client, await this.slackUserFor(target.directoryId));
    } catch {
      // Only the fallback text of dates depends on it; delivering the message does not.
      return this.display.botZone;
    }
  }

  /** A channel as it is; a person's DM, opened once (conversations.open) and remembered. */
  private async channelFor(target: Target): Promise<{ channel: string; remembered: boolean }> {
    if (target.kind === 'channel') return { channel: target.channel, remembered: false };
    const slackUserId = await this.slackUserFor(target.directoryId);
    return openDm(this.deps.store, () => this.now(), this.client, this.gate, slackUserId);
  }

  private async slackUserFor(directoryId: string): Promise<string> {
    const bound = await this.deps.store.bindingForPerson(directoryId);
    if (bound) return bound.slackUserId;
    // Looked up once for a message's zone and its DM, not twice.
    const known = this.lookedUp.get(directoryId);
    if (known && Date.now() - known.at < LOOKUP_TTL_MS) return known.slackUserId;
    const person = await this.deps.directory.getPerson(directoryId);
    if (!person) throw new PermanentError(`${directoryId} is not in the directory; nobody to message`);
    try {
      const lookUp = () => this.client.users.lookupByEmail({ email: person.email });
      const found = await this.gate.call('users.lookupByEmail', lookUp);
      if (!found.user?.id) throw new PermanentError(`users.lookupByEmail ${person.email}: no user in the answer`);
      this.lookedUp.set(directoryId, { slackUserId: found.user.id, at: Date.now() });
      if (this.lookedUp.size > RENDERED_KEPT) this.lookedUp.delete(this.lookedUp.keys().next().value!);
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
  constructor(
    readonly channel: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, undefined, options);
  }
}

function toTarget(recipient: Exclude<Recipient, { kind: 'group' }>): Target {
  return recipient.kind === 'channel'
    ? { kind: 'channel', channel: recipient.channel }
    : { kind: 'person', directoryId: recipient.directoryId };
}

function targetKey(target: Target): string {
  return target.kind === 'channel' ? `channel:${target.channel}` : `person:${target.directoryId}`;
}
