/**
 * The population of a review: one item per holder and access, built from what the store and the
 * directory say at the start, in a stable order, and its hash.
 *
 * The hash ties the evidence together: SHA-256 over one line per item, `<holder directory
 * id>\t<access>\t<source>`, the lines sorted and joined with LF. Those are three columns of the
 * review export (`holder_okta_id`, `access`, `source`), so an auditor recomputes it from the CSV
 * and finds the number recorded in the `review.started` audit event.
 */
import { sha256Hex } from '../canonical.js';
import type { Person } from '../person.js';
import type { DecisionRecord, Grant, PersonRef } from '../records.js';
import { accessLabel, sourceLabel, type ItemSource, type ReviewAccess } from './review-records.js';
import type { ReviewDefinition } from './review-definition.js';

export interface PopulationItem {
  holder: PersonRef;
  access: ReviewAccess;
  source: ItemSource;
}

export interface PopulationFacts {
  /** Active grants of the roles in scope. */
  roleGrants: readonly Grant[];
  /** Every member of each group in scope, as the directory lists them now. */
  groupMembers: ReadonlyMap<string, readonly Person[]>;
  /** Open grants of the bot through each group in scope (the bot's membership, not standing). */
  groupGrants: ReadonlyMap<string, readonly Grant[]>;
  /** The decisions on the grants' requests; a grant whose request nobody approved was auto-approved. */
  decisions: ReadonlyMap<string, readonly DecisionRecord[]>;
}

export function buildPopulation(review: ReviewDefinition, facts: PopulationFacts): PopulationItem[] {
  const items: PopulationItem[] = [];
  const grantSource = (g: Grant): ItemSource => {
    const approvals = (facts.decisions.get(g.requestId) ?? []).filter((d) => d.decision === 'approve');
    const approvedBy = approvals.length
      ? approvals.map((d) => `${d.approver.name} <${d.approver.email}>`)
      : ['auto-approved by its policy'];
    return {
      kind: 'grant',
      grantId: g.id,
      requestId: g.requestId,
      approvedBy,
      grantedAt: g.activatedAt,
      expiresAt: g.expiresAt,
    };
  };
  const inScope = new Set(review.scope.roles.map((r) => `${r.app}/${r.role}`));
  const listed = new Set<string>();
  for (const grant of facts.roleGrants) {
    if (grant.status !== 'active' || !inScope.has(`${grant.app}/${grant.role}`)) continue;
    listed.add(grant.id);
    items.push({
      holder: grant.holder,
      access: { kind: 'role', app: grant.app, role: grant.role },
      source: grantSource(grant),
    });
  }
  for (const group of review.scope.groups) {
    // A membership the bot added for an open grant is that grant, not standing access; a grant
    // already listed through its role is not listed twice.
    const ours = new Map<string, Grant>();
    for (const g of facts.groupGrants.get(group) ?? [])
      if (g.alreadyMember === false) ours.set(g.holder.directoryId, g);
    for (const person of facts.groupMembers.get(group) ?? []) {
      const grant = ours.get(person.id);
      if (grant && listed.has(grant.id)) continue;
      const holder: PersonRef = grant?.holder ?? {
        directoryId: person.id,
        email: person.email,
        name: person.name,
        slackId: null,
      };
      items.push({
        holder,
        access: { kind: 'group', group },
        source: grant ? grantSource(grant) : { kind: 'standing' },
      });
    }
  }
  return sortPopulation(items);
}

/** By access, then holder name and email, then source: the order of the reviewer's list and the export. */
function sortPopulation<T extends PopulationItem>(items: T[]): T[] {
  const key = (i: PopulationItem) => [
    accessLabel(i.access),
    i.holder.name.toLowerCase(),
    i.holder.email.toLowerCase(),
    sourceLabel(i.source),
  ];
  return [...items].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let n = 0; n < ka.length; n++) if (ka[n] !== kb[n]) return ka[n]! < kb[n]! ? -1 : 1;
    return 0;
  });
}

/** The line an item contributes to the population hash: three columns of the export. */
export function populationLine(item: {
  holder: { directoryId: string };
  access: ReviewAccess;
  source: ItemSource;
}): string {
  return `${item.holder.directoryId}\t${accessLabel(item.access)}\t${sourceLabel(item.source)}`;
}

/** SHA-256 of the sorted lines, joined with LF (see the file's comment). */
export function populationHash(lines: readonly string[]): string {
  return sha256Hex([...lines].sort().join('\n'));
}
