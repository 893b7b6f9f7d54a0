/** Who starts or closes a review from the command line: the admin named by --admin, or the CLI itself. */
import type { Deps } from '../../operations/context.js';
import { identifyOnCommandLine } from '../../operations/identify-person.js';
import type { ReviewActor } from '../../operations/reviews/review-actor.js';
import { commandLineUser } from '../command.js';

export async function commandLineReviewActor(deps: Deps, admin: string | undefined): Promise<ReviewActor> {
  const where = commandLineUser();
  return admin
    ? { kind: 'admin', admin: await identifyOnCommandLine(deps, admin, where) }
    : { kind: 'system', component: 'cli', details: { osUser: where.osUser, host: where.host } };
}
