/**
 * Read-only look-ups of Slack users in the directory: for a person an admin picks in a form, or
 * for `/access explain`, which must record nothing. Unlike `identify`, nothing is bound here: a
 * binding is made only when a person acts themselves.
 */
import type { WebClient } from '@slack/web-api';

import type { Person } from '../../domain/person.js';
import { slackEmailOf, type SlackContext } from './context.js';

export interface LookedUp {
  person: Person | null;
  email: string | null;
  /** The stored binding's directory id, when the Slack user was matched before. */
  boundTo: string | null;
}

export async function lookUpSlackUser(ctx: SlackContext, client: WebClient, slackUserId: string): Promise<LookedUp> {
  const binding = await ctx.deps.store.bindingForSlackUser(slackUserId);
  if (binding)
    return {
      person: await ctx.deps.directory.getPerson(binding.directoryId),
      email: binding.email,
      boundTo: binding.directoryId,
    };
  const email = await slackEmailOf(
    ctx,
    client,
    slackUserId,
    'Slack did not say who that is just now; please try again in a moment.',
  );
  return { person: email ? await ctx.deps.directory.findPerson(email) : null, email, boundTo: null };
}
