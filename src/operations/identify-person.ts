/**
 * Matching a Slack user to a directory person. The first time someone acts, their Slack email is
 * looked up in the directory (case-insensitive) and the pair of immutable ids is stored. After
 * that the stored pair decides, and an email that no longer matches, a second Slack user claiming
 * the same person, or several directory matches are errors an admin resolves — never a guess.
 */
import { AccessError } from '../domain/errors.js';
import { assertTextWithin, TEXT_LIMITS } from '../domain/text-limits.js';
import { actorOf, type ActingPerson } from './acting-person.js';
import { nowIso, type Deps } from './context.js';
import type { IdentityBinding } from '../domain/records.js';
import { assertAdmin } from './revoke-grant.js';

export async function identifySlackUser(
  deps: Deps,
  input: {
    slackUserId: string;
    email: string | null;
    /** The stored binding, when the caller has read it already (null: there is none); else it is read here. */
    binding?: IdentityBinding | null;
  },
): Promise<ActingPerson> {
  const binding =
    input.binding === undefined
      ? await deps.store.bindingForSlackUser(input.slackUserId)
      : (input.binding ?? undefined);
  if (binding) {
    const person = await deps.directory.getPerson(binding.directoryId);
    if (!person) throw new AccessError('identity_unknown', 'Your directory account no longer exists. Ask an admin.');
    if (input.email && person.email.toLowerCase() !== input.email.toLowerCase()) {
      throw new AccessError(
        'identity_mismatch',
        `Your Slack email (${input.email}) no longer matches your directory account (${person.email}). An admin must run \`identity unbind\` to re-match you.`,
      );
    }
    return { person, slackId: input.slackUserId };
  }

  if (!input.email)
    throw new AccessError(
      'identity_unknown',
      'Your Slack profile has no email address, so you cannot be matched to the directory.',
    );
  const person = await deps.directory.findPerson(input.email); // throws identity_ambiguous on several matches
  // Bound by email only (PRODUCT.md): the directory also finds people by login, and a Slack email
  // that happens to be someone else's login must not make its owner act as them.
  if (!person || person.email.toLowerCase() !== input.email.toLowerCase()) {
    throw new AccessError('identity_unknown', `No one with the email ${input.email} is in the directory.`);
  }
  const now = nowIso(deps);
  const acting: ActingPerson = { person, slackId: input.slackUserId };
  try {
    await deps.store.transaction(async (tx) => {
      const claimed = await tx.bindingForPerson(person.id);
      // The same person's first two clicks at once (two replicas, or two listeners): the second
      // finds the binding the first made, which is its own.
      if (claimed?.slackUserId === input.slackUserId) return;
      if (claimed)
        throw new AccessError(
          'identity_conflict',
          `${person.email} is already matched to another Slack user. An admin must resolve it with \`identity unbind\`.`,
          { otherSlackUserId: claimed.slackUserId },
        );
      await tx.bindIdentity({
        slackUserId: input.slackUserId,
        directoryId: person.id,
        email: person.email,
        boundAt: now,
      });
      await tx.appendAudit({
        at: now,
        actor: actorOf(acting),
        action: 'identity.bound',
        details: { slackUserId: input.slackUserId, directoryId: person.id, email: person.email },
      });
    });
  } catch (error) {
    if (error instanceof AccessError && error.code === 'identity_conflict') {
      await deps.store.transaction(
        async (tx) =>
          await tx.appendAudit({
            at: now,
            actor: { kind: 'system', component: 'identity' },
            action: 'identity.conflicted',
            details: {
              slackUserId: input.slackUserId,
              directoryId: person.id,
              email: person.email,
              boundTo: error.details.otherSlackUserId,
            },
          }),
      );
    }
    throw error;
  }
  return acting;
}

/** For the command line: the person by email, no Slack involved. */
export async function identifyByEmail(deps: Deps, email: string): Promise<ActingPerson> {
  const person = await deps.directory.findPerson(email);
  if (!person) throw new AccessError('identity_unknown', `No one with the email ${email} is in the directory.`);
  return { person, slackId: (await deps.store.bindingForPerson(person.id))?.slackUserId ?? null };
}

/**
 * For `--admin EMAIL` on the command line: the person by email, marked as acting from the command
 * line with the OS user and host that ran it (never with their Slack id: they did not act in Slack).
 */
export async function identifyOnCommandLine(
  deps: Deps,
  email: string,
  where: { osUser: string; host: string },
): Promise<ActingPerson> {
  const person = await deps.directory.findPerson(email);
  if (!person || person.email.toLowerCase() !== email.trim().toLowerCase())
    throw new AccessError('identity_unknown', `No one with the email ${email} is in the directory.`);
  return { person, slackId: null, commandLine: where };
}

/** An admin removes a binding so the Slack user is matched again on their next action. Audited. */
export async function unbindIdentity(
  deps: Deps,
  input: { admin: ActingPerson; slackUserId: string; reason: string },
): Promise<void> {
  assertTextWithin(input.reason, TEXT_LIMITS.reason, 'The reason');
  await assertAdmin(deps, input.admin);
  if (!input.reason.trim())
    throw new AccessError('reason_required', 'Say why the binding is removed; it is kept in the audit log.');
  const now = nowIso(deps);
  await deps.store.transaction(async (tx) => {
    const binding = await tx.bindingForSlackUser(input.slackUserId);
    if (!binding) throw new AccessError('not_found', `Slack user ${input.slackUserId} is not bound to anyone.`);
    await tx.unbindIdentity(input.slackUserId);
    await tx.appendAudit({
      at: now,
      actor: actorOf(input.admin),
      action: 'identity.unbound',
      details: {
        slackUserId: binding.slackUserId,
        directoryId: binding.directoryId,
        email: binding.email,
        reason: input.reason.trim(),
      },
    });
  });
}
