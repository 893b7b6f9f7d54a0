/**
 * zod schemas for the parts of Slack payloads the listeners use. Button values and
 * private_metadata carry ids only; everything else is looked up again from stored state.
 */
import * as z from 'zod';
import { BLOCK } from '../../../blocks/ids.js';

const StateValueSchema = z
  .object({
    type: z.string(),
    value: z.string().nullish(),
    selected_option: z.object({ value: z.string() }).nullish(),
  })
  .loose();

const ViewStateSchema = z.object({
  values: z.record(z.string(), z.record(z.string(), StateValueSchema)),
});
export type ViewState = z.infer<typeof ViewStateSchema>;

export const ViewSchema = z
  .object({
    id: z.string().min(1),
    hash: z.string().optional(),
    private_metadata: z.string().optional().default(''),
    state: ViewStateSchema.optional().default({ values: {} }),
  })
  .loose();
export type ViewPayload = z.infer<typeof ViewSchema>;

export const BlockActionSchema = z
  .object({
    user: z.object({ id: z.string().min(1) }),
    trigger_id: z.string().optional(),
    container: z
      .object({ channel_id: z.string().optional(), message_ts: z.string().optional(), view_id: z.string().optional() })
      .loose()
      .optional(),
    channel: z.object({ id: z.string() }).optional(),
    view: ViewSchema.optional(),
    actions: z
      .array(
        z
          .object({
            action_id: z.string(),
            value: z.string().optional(),
            selected_option: z.object({ value: z.string() }).nullish(),
          })
          .loose(),
      )
      .min(1),
  })
  .loose();
export type BlockAction = z.infer<typeof BlockActionSchema>;

export const ViewSubmissionSchema = z
  .object({
    user: z.object({ id: z.string().min(1) }),
    view: ViewSchema,
  })
  .loose();

/** The Deny reason modal remembers which request and step it is for. */
export const DenyMetadataSchema = z.object({
  r: z.string().regex(/^req_[A-Za-z0-9]{1,60}$/),
  s: z.number().int().min(0).max(999),
  h: z.literal(1).optional(),
});
export const ExtendMetadataSchema = z.object({ g: z.string().regex(/^grt_[A-Za-z0-9]{1,60}$/) });
/** Approve for less: the request, the step, and the duration picked. */
export const ShorterMetadataSchema = DenyMetadataSchema.extend({
  sec: z
    .number()
    .int()
    .positive()
    .max(10 * 365 * 86_400),
});

/** Metadata as JSON, parsed against its schema; null when anything is off. */
export function parseMetadata<T>(schema: z.ZodType<T>, text: string): T | null {
  try {
    const result = schema.safeParse(JSON.parse(text));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

/** The selected value of a select in a view; `blockId` may be a prefix (`duration` matches `duration:github:owner`). */
export function selected(state: ViewState, blockId: string, actionId: string): string | undefined {
  for (const [id, actions] of Object.entries(state.values)) {
    if (id === blockId || id.startsWith(`${blockId}:`)) {
      const value = actions[actionId]?.selected_option?.value;
      if (value) return value;
    }
  }
  return undefined;
}

/** A users_select's picked Slack user id, a datepicker's `YYYY-MM-DD`. */
export function pickedUser(state: ViewState, blockId: string, actionId: string): string | undefined {
  const value = state.values[blockId]?.[actionId]?.selected_user;
  return typeof value === 'string' && value ? value : undefined;
}

export function pickedDate(state: ViewState, blockId: string, actionId: string): string | undefined {
  const value = state.values[blockId]?.[actionId]?.selected_date;
  return typeof value === 'string' && value ? value : undefined;
}

export function typed(state: ViewState, blockId: string, actionId: string): string {
  return state.values[blockId]?.[actionId]?.value ?? '';
}

/** A select's value from the state, else the initial option the view was rendered with. */
export function selectedOrInitial(view: ViewPayload, blockId: string, actionId: string): string | undefined {
  const fromState = selected(view.state, blockId, actionId);
  if (fromState) return fromState;
  const blocks = Array.isArray(view.blocks)
    ? (view.blocks as { block_id?: unknown; element?: { action_id?: unknown; initial_option?: { value?: unknown } } }[])
    : [];
  const value = blocks.find((b) => b.block_id === blockId && b.element?.action_id === actionId)?.element?.initial_option
    ?.value;
  return typeof value === 'string' ? value : undefined;
}

/** Whether the view has an input block with this id (inline errors may only name input blocks). */
export function hasInputBlock(view: Record<string, unknown>, blockId: string): boolean {
  return (
    Array.isArray(view.blocks) &&
    view.blocks.some(
      (b) =>
        typeof b === 'object' &&
        b !== null &&
        (b as { block_id?: unknown }).block_id === blockId &&
        (b as { type?: unknown }).type === 'input',
    )
  );
}

/** The duration input's actual block id (it carries the role). */
export function durationBlock(state: ViewState): string {
  return Object.keys(state.values).find((id) => id.startsWith(`${BLOCK.duration}:`)) ?? BLOCK.duration;
}

/**
 * The teams a request names: the one it was sent from (`team_id` or `team.id`, which in a Slack
 * Connect channel can be the host's), and the acting user's own (`user.team_id`).
 */
function teamsOf(body: unknown): { container?: string; user?: string } {
  if (!body || typeof body !== 'object') return {};
  const b = body as { team_id?: unknown; team?: { id?: unknown } | null; user?: { team_id?: unknown } | string };
  const container =
    typeof b.team_id === 'string' ? b.team_id : b.team && typeof b.team.id === 'string' ? b.team.id : undefined;
  const user = b.user && typeof b.user === 'object' && typeof b.user.team_id === 'string' ? b.user.team_id : undefined;
  return { ...(container !== undefined ? { container } : {}), ...(user !== undefined ? { user } : {}) };
}

/**
 * The team that makes a request foreign to the workspace the bot serves, or undefined: the acting
 * user's own team whenever the payload carries it (whatever the container says: in a Slack Connect
 * channel the container can be ours while the user is a partner's), else the container's. On
 * Enterprise Grid (`sameOrg`) teams of the same organisation differ legitimately; there the
 * users.info check, which compares the organisation, decides.
 */
export function foreignTeam(body: unknown, teamId: string, sameOrg = false): string | undefined {
  if (sameOrg) return undefined;
  const { container, user } = teamsOf(body);
  if (user !== undefined && user !== teamId) return user;
  if (container !== undefined && container !== teamId) return container;
  return undefined;
}
