/**
 * The request modal's life. Opening: who asks, and what they may request, is read first, within a
 * budget (a trigger id is good for 3 s): a person the bot cannot act for, or who may request
 * nothing of the application they named, gets one sentence (an ephemeral reply to a command) and
 * no form; everyone else gets the form, complete. If the directory is slow, the modal opens at once
 * and is filled in when it answers. App and role picks update it; the submission is one
 * `submitRequest` call whose outcome is an inline error, the extension offer, the pending request
 * (with Cancel), or nothing: the modal closes, and the DM says what happened.
 */
import type { ModalView, WebClient } from '@slack/web-api';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { groupName, list } from '../../../blocks/format.js';
import { BLOCK } from '../../../blocks/ids.js';
import { extensionOfferModal, infoModal, pendingPointerModal, requestModal } from '../../../blocks/modals.js';
import { AccessError } from '../../domain/errors.js';
import type { AccessRequest, Grant, IdentityBinding } from '../../domain/records.js';
import type { ActingPerson } from '../../operations/acting-person.js';
import { extensionOffer } from '../../operations/extend-grant.js';
import { heldGrant, type SubmitResult } from '../../operations/submit-request.js';
import { explain, identify, openModal, type SlackContext, type SubmissionReply } from './context.js';
import { platformError } from './slack-errors.js';
import { requestCard } from './request-card.js';
import { eligibleRoles, namedApprovers, requestFormModel, type FormState } from './request-form.js';

/** How long opening waits for the directory before it opens the modal anyway (the trigger lasts 3 s). */
const OPEN_BUDGET_MS = 1200;

/** Who asks, with their groups, read live; and the form's reads about them for the state asked with. */
interface Asking {
  acting: ActingPerson;
  groups: string[];
  reads: PersonReads;
}

/**
 * What the form reads about one person, started as soon as their directory id is known: for a
 * bound person that is while Slack still answers users.info, so the round trips overlap instead
 * of following one another. Only reads: nothing is shown before `identify` has checked the person.
 */
interface PersonReads {
  personId: string;
  groups: Promise<string[]>;
  /** For the role the form names: their open grant of it, and their request for it that waits. */
  held: Promise<Grant | undefined>;
  pending: Promise<AccessRequest | undefined>;
}

function startReads(ctx: SlackContext, personId: string, state: FormState, groups: boolean): PersonReads {
  const { store, directory } = ctx.deps;
  const { app, role } = state;
  return {
    personId,
    groups: handled(groups ? directory.groupsOf(personId) : Promise.resolve([])),
    held: handled(app && role ? heldGrant(store, personId, app, role) : Promise.resolve(undefined)),
    pending: handled(app && role ? store.findPendingRequest(personId, app, role) : Promise.resolve(undefined)),
  };
}

/** `promise`, its failure marked handled: it is awaited later, or never when identifying failed first. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

async function whoIsAsking(ctx: SlackContext, client: WebClient, userId: string, state: FormState): Promise<Asking> {
  let early: PersonReads | undefined;
  const { store, directory } = ctx.deps;
  const { app, role } = state;
  // The person's reads start while Slack answers users.info where they wait too (`Store.readsWait`):
  // synchronous reads would only move ahead of the other commands' acks (measured: the one-process
  // ack bench got slower). For a role named, the binding and the role's grant and request of the
  // person it binds are one read: one round trip and one statement for the database, not three.
  let binding: Promise<IdentityBinding | undefined> | undefined;
  let bound: ((id: string) => void) | undefined;
  if (store.readsWait && app && role) {
    const read = handled(store.roleStateForSlackUser(userId, app, role));
    binding = read.then((found) => found.binding);
    bound = (id) =>
      (early = {
        personId: id,
        groups: handled(directory.groupsOf(id)),
        held: handled(read.then((found) => found.held)),
        pending: handled(read.then((found) => found.pending)),
      });
  } else if (store.readsWait) bound = (id) => (early = startReads(ctx, id, state, true));
  const acting = await identify(ctx, client, userId, { ...(bound ? { bound } : {}), ...(binding ? { binding } : {}) });
  const { person } = acting;
  const reads = early?.personId === person.id ? early : startReads(ctx, person.id, state, person.active);
  const groups = person.active ? await reads.groups : [];
  return { acting, groups, reads };
}

export interface OpenInput extends FormState {
  triggerId: string;
  userId: string;
  /** Request again…: the earlier request whose justification the form starts with (only for its own requester). */
  previousRequestId?: string;
  /** Says a refusal as the command's ephemeral reply; without it (a button), a small modal says it. */
  refuse?: (text: string) => Promise<void>;
  /** Where the click or command came from: a click that expired is answered there. */
  channel?: string;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export async function openRequestModal(ctx: SlackContext, client: WebClient, input: OpenInput): Promise<void> {
  const asking = settle(whoIsAsking(ctx, client, input.userId, input));
  const early = await within(asking, OPEN_BUDGET_MS);
  if (early) {
    const answer = await outcome(ctx, early, input);
    if (answer.kind === 'refusal' && input.refuse) return input.refuse(answer.text);
    const view = answer.kind === 'refusal' ? infoModal('Request access', escapeMrkdwn(answer.text)) : answer.view;
    await openModal(ctx, client, { triggerId: input.triggerId, view, where: whereOf(input) });
    return;
  }
  // The directory is slow: open now, fill in when it answers.
  const lookingUp = infoModal('Request access', '_Looking up what you may request…_');
  const opened = await openModal(ctx, client, { triggerId: input.triggerId, view: lookingUp, where: whereOf(input) });
  const answer = await outcome(ctx, await asking, input);
  const view = answer.kind === 'refusal' ? infoModal('Request access', escapeMrkdwn(answer.text)) : answer.view;
  if (opened) await updateView(client, opened.id, opened.hash, view);
}

function whereOf(input: OpenInput): { user: string; channel?: string } {
  return { user: input.userId, ...(input.channel ? { channel: input.channel } : {}) };
}

type Outcome = { kind: 'refusal'; text: string } | { kind: 'view'; view: ModalView };

async function outcome(ctx: SlackContext, asked: Settled<Asking>, input: OpenInput): Promise<Outcome> {
  if (!asked.ok) return { kind: 'refusal', text: explain(ctx, asked.error, 'request modal') };
  const refusal = refusalFor(ctx, asked.value, input);
  if (refusal) return { kind: 'refusal', text: refusal };
  return { kind: 'view', view: await formView(ctx, asked.value, input, input.previousRequestId) };
}

/** One sentence instead of a form nobody could submit. */
function refusalFor(ctx: SlackContext, asking: Asking, state: FormState): string | null {
  const person = asking.acting.person;
  if (!person.active)
    return `Your directory account (${person.email}) is not active, so the bot cannot act for you. If that is a mistake, ask IT to reactivate it.`;
  const app = state.app ? ctx.deps.catalog.app(state.app) : undefined;
  if (app && eligibleRoles(app, person, asking.groups).length === 0) {
    const groups = [...new Set(app.roles.flatMap((r) => r.eligibleGroups))].map(groupName);
    return `You may not request any ${app.name} role: only members of ${list(groups)} may. \`/access explain ${app.app} <role>\` shows the whole rule.`;
  }
  return null;
}

/** Re-renders the modal for the person and the current app/role choice. */
export async function refreshRequestModal(
  ctx: SlackContext,
  client: WebClient,
  input: { viewId: string; hash?: string; userId: string; state: FormState },
): Promise<void> {
  let view: ModalView;
  try {
    view = await formView(ctx, await whoIsAsking(ctx, client, input.userId, input.state), input.state);
  } catch (error) {
    view = infoModal('Request access', escapeMrkdwn(explain(ctx, error, 'request modal')));
  }
  await updateView(client, input.viewId, input.hash, view);
}

async function updateView(client: WebClient, viewId: string, hash: string | undefined, view: ModalView): Promise<void> {
  try {
    await client.views.update({ view_id: viewId, ...(hash ? { hash } : {}), view });
  } catch (error) {
    // A newer update (the person picked again) won the race: that one shows the right thing.
    if (platformError(error) === 'hash_conflict') return;
    throw error;
  }
}

/** The form for this person and choice; the extension offer for a role they hold. */
async function formView(
  ctx: SlackContext,
  asking: Asking,
  state: FormState,
  previousRequestId?: string,
): Promise<ModalView> {
  const { person } = asking.acting;
  const zone = ctx.display.knownZone(asking.acting.slackId);
  // Independent reads, at once rather than one after another.
  const [held, pendingRequest, previous, approverNames] = await Promise.all([
    asking.reads.held,
    asking.reads.pending,
    previousRequestId ? ctx.deps.store.getRequest(previousRequestId) : undefined,
    state.app ? ctx.display.personNames(namedApprovers(ctx.deps, state.app)) : {},
  ]);
  if (held) return offerView(ctx, held, zone);
  const pending = pendingRequest ? await requestCard(ctx.deps, pendingRequest, zone) : undefined;
  // Someone else's justification is never shown: a forwarded Request again… starts empty.
  const justification = previous && previous.requester.directoryId === person.id ? previous.justification : undefined;
  return requestModal(
    requestFormModel(ctx.deps, person, asking.groups, state, {
      approverNames,
      ...(pending ? { pending } : {}),
      ...(justification ? { justification } : {}),
    }),
  );
}

export function offerView(ctx: SlackContext, grant: Grant, timezone = ctx.deps.settings.timezone): ModalView {
  const offer = extensionOffer(ctx.deps, grant);
  const entry = ctx.deps.catalog.find(grant.app, grant.role);
  return extensionOfferModal({
    grantId: grant.id,
    appName: entry?.app.name ?? grant.app,
    roleName: entry?.role.name ?? grant.role,
    expiresAt: offer.expiresAt,
    maxAddSeconds: offer.maxAddSeconds,
    choices: offer.choices,
    approval: offer.approval,
    justificationRequired: entry?.role.justification === 'required',
    refusal: offer.refusal,
    now: ctx.deps.clock.now().toISOString(),
    held: grant.status === 'active',
    timezone,
    privateMetadata: JSON.stringify({ g: grant.id }),
  });
}

export type { SubmissionReply } from './context.js';

/** Maps the core's refusal of a submission to the input it is about. */
export function submissionError(
  ctx: SlackContext,
  error: unknown,
  blocks: { duration: string; role?: string },
  where: string,
): SubmissionReply {
  if (error instanceof AccessError) {
    switch (error.code) {
      case 'justification_required':
        return { response_action: 'errors', errors: { [BLOCK.justification]: error.message } };
      case 'invalid_duration':
      case 'extension_exceeds_limit':
        return { response_action: 'errors', errors: { [blocks.duration]: error.message } };
      case 'not_eligible':
      case 'unknown_role':
      case 'unsatisfiable_chain':
        if (blocks.role) return { response_action: 'errors', errors: { [blocks.role]: error.message } };
        break;
      default:
        break;
    }
  }
  return { response_action: 'update', view: infoModal('Not submitted', escapeMrkdwn(explain(ctx, error, where))) };
}

/** A submitted request closes the form: the DM that follows says what happens next. */
export async function submittedReply(
  ctx: SlackContext,
  result: SubmitResult,
  timezone?: string,
): Promise<SubmissionReply> {
  switch (result.kind) {
    case 'already_pending': {
      const card = await requestCard(ctx.deps, result.request, timezone);
      return card ? { response_action: 'update', view: pendingPointerModal(card) } : undefined;
    }
    case 'extension_offer':
      return { response_action: 'update', view: offerView(ctx, result.offer.grant, timezone) };
    case 'submitted':
      return undefined;
  }
}
