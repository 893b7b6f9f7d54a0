/**
 * Who reviews an item, and whether a person may decide it now. Pure: the operations read the
 * directory and hand the facts in.
 *
 * Rules that always hold: nobody reviews their own access; a reviewer who is missing, inactive or
 * the holder is replaced by the fallback reviewer (and the item says why); a fallback that cannot
 * be used either falls back to the admin group, as approvals do. Reviewers are resolved when the
 * campaign starts; when one decides, the rule that made them a reviewer must still hold.
 */
import type { Person } from '../person.js';
import type { FallbackReviewer, ReviewDefinition, ReviewerRule } from './review-definition.js';
import type { ItemReviewer } from './review-records.js';

export interface ReviewerFacts {
  /** For `reviewer: manager`: the holder's manager, or null when they have none. */
  manager: Person | null;
  /** People named by `{user: email}` rules, by lower-cased email; null when not in the directory. */
  users: ReadonlyMap<string, Person | null>;
  /** Members of the groups the rules name (a missing key: the group does not exist). */
  groupMembers: ReadonlyMap<string, readonly Person[]>;
  adminGroup: string;
}

export interface Assigned {
  reviewer: ItemReviewer;
  /** The people who get the item in their list (a group rule: each active member but the holder). */
  people: Person[];
}

export function assignReviewer(review: ReviewDefinition, holderId: string, facts: ReviewerFacts): Assigned {
  const first = resolve(review.reviewer, holderId, facts);
  if (first.people.length > 0)
    return { reviewer: { rule: review.reviewer, fallbackReason: null, label: first.label }, people: first.people };
  const fallback = resolve(review.fallbackReviewer, holderId, facts);
  if (fallback.people.length > 0) {
    return {
      reviewer: { rule: review.fallbackReviewer, fallbackReason: first.why, label: fallback.label },
      people: fallback.people,
    };
  }
  const admins: FallbackReviewer = { kind: 'group', group: facts.adminGroup };
  const last = resolve(admins, holderId, facts);
  return {
    reviewer: {
      rule: admins,
      fallbackReason: `${first.why}; and the fallback reviewer: ${fallback.why}`,
      label: last.label,
    },
    people: last.people,
  };
}

function resolve(
  rule: ReviewerRule,
  holderId: string,
  facts: ReviewerFacts,
): { people: Person[]; label: string; why: string } {
  switch (rule.kind) {
    case 'manager': {
      const m = facts.manager;
      const label = m ? `${m.name} (manager)` : 'the manager';
      if (!m) return { people: [], label, why: 'the holder has no manager in the directory' };
      if (!m.active) return { people: [], label, why: `the manager, ${m.email}, is not active` };
      if (m.id === holderId) return { people: [], label, why: 'the holder is their own manager' };
      return { people: [m], label, why: '' };
    }
    case 'user': {
      const u = facts.users.get(rule.user.toLowerCase()) ?? null;
      const label = u ? u.name : rule.user;
      if (!u) return { people: [], label, why: `${rule.user} is not in the directory` };
      if (!u.active) return { people: [], label, why: `${rule.user} is not active` };
      if (u.id === holderId) return { people: [], label, why: `${rule.user} holds the access` };
      return { people: [u], label, why: '' };
    }
    case 'group': {
      const members = facts.groupMembers.get(rule.group);
      const label = `group ${rule.group}`;
      if (!members) return { people: [], label, why: `group ${rule.group} does not exist` };
      const people = members.filter((p) => p.active && p.id !== holderId);
      return { people, label, why: people.length ? '' : `nobody in ${rule.group} but the holder is active` };
    }
  }
}

/** What the live check of a decider needs, read from the directory when the click arrives. */
export interface DeciderFacts {
  decider: Person | null;
  /** For a manager rule: the holder's manager now. */
  manager?: Person | null;
  /** For a user rule: the person the rule names, now. */
  user?: Person | null;
  /** For a group rule: whether the decider is in the group now. */
  inGroup?: boolean;
}

/**
 * Null when `deciderId` may decide the item now, else why not, in words the person reads. The
 * self-review rule comes first: no rule can make a holder the reviewer of their own access.
 */
export function whyNotReviewer(
  item: { holder: { directoryId: string }; reviewer: ItemReviewer },
  deciderId: string,
  facts: DeciderFacts,
): string | null {
  if (deciderId === item.holder.directoryId) return 'nobody reviews their own access';
  if (!facts.decider?.active) return 'your directory account is not active';
  const rule = item.reviewer.rule;
  switch (rule.kind) {
    case 'manager':
      return facts.manager?.id === deciderId ? null : "you are no longer the holder's manager";
    case 'user':
      return facts.user?.id === deciderId ? null : `only ${rule.user} reviews this item`;
    case 'group':
      return facts.inGroup ? null : `you are no longer in ${rule.group}`;
  }
}
