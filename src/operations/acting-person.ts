import type { Actor } from '../domain/audit.js';
import type { Person } from '../domain/person.js';
import type { PersonRef } from '../domain/records.js';

/** The person behind an interaction, already matched to the directory (see `identifySlackUser`). */
export interface ActingPerson {
  person: Person;
  slackId?: string | null;
  /**
   * Set for an admin named with `--admin` on the command line: a claim anyone with shell access
   * could make, so the log says where it came from and who ran it, and carries no Slack id.
   */
  commandLine?: { osUser: string; host: string };
}

export function personRef(acting: ActingPerson): PersonRef {
  return {
    directoryId: acting.person.id,
    email: acting.person.email,
    name: acting.person.name,
    slackId: acting.slackId ?? null,
  };
}

export function refOf(person: Person, slackId?: string | null): PersonRef {
  return { directoryId: person.id, email: person.email, name: person.name, slackId: slackId ?? null };
}

export function actorOf(acting: ActingPerson): Actor {
  const actor: Actor = { kind: 'person', directoryId: acting.person.id, email: acting.person.email };
  if (acting.commandLine)
    return { ...actor, via: 'cli', osUser: acting.commandLine.osUser, host: acting.commandLine.host };
  if (acting.slackId) actor.slackId = acting.slackId;
  return actor;
}
