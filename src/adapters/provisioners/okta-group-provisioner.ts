/**
 * `okta_group`: membership of a directory group, through the Directory port (Okta in production,
 * the YAML directory in the sandbox and the tests).
 *
 * The bot only takes away what it gave. Before the add it records whether the person was already
 * a member (membership through another of the bot's grants is the bot's, not theirs), so a retry
 * after a successful add cannot mistake the bot's own membership for one the person had; at the
 * revoke, a person who was a member before, or who holds another grant through the group, stays.
 * An add or a removal counts only when the membership read back confirms it.
 */
import { TransientError } from '../../domain/errors.js';
import { oktaGroupMethod, type OktaGroupProvision } from '../../domain/provisioning/okta-group.js';
import type { Grant } from '../../domain/records.js';
import type { Directory, Provisioner } from '../../operations/ports.js';

export function oktaGroupProvisioner(directory: Directory): Provisioner<OktaGroupProvision> {
  const isMember = (grant: Grant, provision: OktaGroupProvision) =>
    directory.isMember(grant.holder.directoryId, provision.group);
  return {
    async grant(grant, provision, { store }) {
      let alreadyMember = grant.alreadyMember;
      if (alreadyMember === null) {
        const member = await isMember(grant, provision);
        const ours =
          (await store.otherGrantsThroughGroup(grant.holder.directoryId, provision.group, grant.id)).length > 0;
        alreadyMember = member && !ours;
        const known = alreadyMember;
        await store.transaction((tx) => tx.updateGrant(grant.id, ['provisioning'], { alreadyMember: known }));
      }
      await directory.addToGroup(grant.holder.directoryId, provision.group);
      if (!(await isMember(grant, provision))) {
        throw new TransientError(`${grant.holder.email} is not in ${provision.group} after the add; will retry`);
      }
      return { kind: 'done', details: { group: provision.group, alreadyMember, confirmed: true } };
    },

    async revoke(grant, provision, { store }) {
      const others = (await store.otherGrantsThroughGroup(grant.holder.directoryId, provision.group, grant.id)).filter(
        (g) => g.status === 'active' || g.status === 'provisioning',
      );
      const otherNames = others.map((g) => `${g.app}/${g.role} ${g.id}`).join(', ');
      const keep = grant.alreadyMember
        ? `${grant.holder.email} was already a member of ${provision.group} before this grant`
        : others.length > 0
          ? `${grant.holder.email} holds another grant through ${provision.group} (${otherNames})`
          : null;
      if (keep)
        return {
          kind: 'done',
          details: { group: provision.group, removed: false, confirmed: false },
          kept: { group: provision.group, why: keep },
        };
      await directory.removeFromGroup(grant.holder.directoryId, provision.group);
      // Done only when the provider confirms: read the membership back.
      if (await isMember(grant, provision)) {
        throw new TransientError(`${grant.holder.email} is still in ${provision.group} after the removal; will retry`);
      }
      return { kind: 'done', details: { group: provision.group, removed: true, confirmed: true } };
    },

    async verify(grant, provision) {
      return (await isMember(grant, provision)) ? 'present' : 'absent';
    },

    describe: (provision) => oktaGroupMethod.describe(provision),
  };
}
