/**
 * `okta_group`: membership of a directory group, through the Directory port (Okta in production,
 * the YAML directory in the sandbox and the tests).
 *
 * The bot only takes away what it gave. Before the add it records whether the person was already
 * a member (membership through another of the bot's grants is the bot's, not theirs), so a retry
 * after a successful add cannot mistake the bot's own membership for one the person had; at the
 * revoke, a person who was a member before, or who holds another grant through the group, stays.
 * An add or a removal counts only when the membership read back confirms it (the Directory port
 * resolves only then).
 */
import { oktaGroupMethod, type OktaGroupProvision } from '../../domain/provisioning/okta-group.js';
import type { Grant } from '../../domain/records.js';
import type { Directory, GrantPreparation, Provisioner, Store, StoreTx } from '../../operations/ports.js';

export function oktaGroupProvisioner(directory: Directory): Provisioner<OktaGroupProvision> {
  return {
    async prepareGrant(grant, provision, { store }) {
      if (grant.alreadyMember !== null) return undefined;
      return (await alreadyMemberRecord(grant, provision.group, store, directory)).write;
    },

    async grant(grant, provision, { store, commitBeforeEffect }) {
      let alreadyMember = grant.alreadyMember;
      if (alreadyMember === null) {
        // Recorded before the add, so a retry after a successful add cannot mistake our own
        // membership for one the person had before, and `null` always means "never added".
        const { known, write } = await alreadyMemberRecord(grant, provision.group, store, directory);
        alreadyMember = known;
        const recorded = await (commitBeforeEffect ? commitBeforeEffect(grant.id, write) : store.transaction(write));
        if (!recorded) return { kind: 'overtaken' }; // the revocation overtook us before the add: nothing was added
      }
      // Resolves once the directory confirms the membership (read back): see the Directory port.
      await directory.addToGroup(grant.holder.directoryId, provision.group);
      return { kind: 'done', details: { group: provision.group, alreadyMember, confirmed: true } };
    },

    async revoke(grant, provision, { store }, options) {
      const group = provision.group;
      // Read with the other revocations of the job runner's batch (see provision-grant.ts), or now.
      const keeping =
        options.keeping ?? (await store.grantsKeepingMemberships([{ holderId: grant.holder.directoryId, group }]));
      const others = keeping.filter((g) => g.id !== grant.id && (g.status === 'active' || g.status === 'provisioning'));
      const unrecorded = others.filter((g) => g.alreadyMember === null);
      const who = grant.holder.email;
      const otherNames = others.map((g) => `${g.app}/${g.role} ${g.id}`).join(', ');
      const keep =
        grant.alreadyMember === null
          ? `${who} was never added to ${group} for this grant (provisioning never reached the directory); ` +
            "a membership they have is not the bot's to take"
          : grant.alreadyMember
            ? `${who} was already a member of ${group} before this grant`
            : others.length > 0
              ? `${who} holds another grant through ${group} (${otherNames})`
              : null;
      // Done only when the provider confirms: removeFromGroup resolves once the membership reads back gone.
      if (!keep) await directory.removeFromGroup(grant.holder.directoryId, group);
      return {
        kind: 'done',
        details: { group, removed: !keep, confirmed: !keep },
        ...(keep ? { kept: { group, why: keep } } : {}),
        // The membership stays for the other grants and is theirs now: one still provisioning must
        // not mistake it for one the person had before the bot. (Only then is there bookkeeping:
        // without it, the revocation's record joins its job's batch, see run-jobs.ts.)
        ...(keep && grant.alreadyMember === false && unrecorded.length > 0
          ? {
              bookkeeping: async (tx: StoreTx) => {
                for (const other of unrecorded) {
                  await tx.updateGrant(other.id, ['provisioning'], { alreadyMember: false });
                }
              },
            }
          : {}),
      };
    },

    async verify(grant, provision) {
      return (await directory.isMember(grant.holder.directoryId, provision.group)) ? 'present' : 'absent';
    },

    describe: (provision) => oktaGroupMethod.describe(provision),
  };
}

/** Whether the person is a member of the group on their own, as read now, and its record on the grant. */
async function alreadyMemberRecord(
  grant: Grant,
  group: string,
  store: Store,
  directory: Directory,
): Promise<{ known: boolean; write: GrantPreparation }> {
  const member = await directory.isMember(grant.holder.directoryId, group);
  const known = member && !(await heldThroughOurGrant(store, grant, group));
  return { known, write: (tx: StoreTx) => tx.updateGrant(grant.id, ['provisioning'], { alreadyMember: known }) };
}

/**
 * Whether the person's membership of the group is the bot's already: another open grant through
 * it added it (`alreadyMember: false`, or inherited). A grant that never added (null) or found the
 * person already there (true) does not make the membership ours.
 */
async function heldThroughOurGrant(store: Store, grant: Grant, group: string): Promise<boolean> {
  const holderId = grant.holder.directoryId;
  const grants = await store.grantsThroughGroup(group, { holderId, status: ['provisioning', 'active', 'revoking'] });
  return grants.some((g) => g.id !== grant.id && g.alreadyMember === false);
}
