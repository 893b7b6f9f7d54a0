/**
 * The building blocks of the policy schemas (policy-schema.ts and each provisioning method's own
 * schema in provisioning/): patterns, the wording of a problem, and the small value schemas.
 */
import * as z from 'zod';
import { parseDuration } from './duration.js';

const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
/** Policy names are recorded on every request and exported to CSV: keep them to one plain token. */
export const POLICY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Slack channel ids: public (C...) or legacy private (G...). Names change; ids do not. */
const CHANNEL_ID_PATTERN = /^[CG][A-Z0-9]{2,}$/;
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

const DURATION_FORM = 'an integer and a unit s, m, h, d or w (for example 30m, 4h, 7d)';

/** How a value reads in a message: strings quoted, the rest by kind. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs `schema` on `value` inside a transform, re-raising its issues at the current path. */
export function delegate<T>(schema: z.ZodType<T>, value: unknown, ctx: z.RefinementCtx): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
}

export const MISSING = 'required key is missing';

/** A zod error message: "required key is missing" when absent, else what was expected and what was found. */
export function expected(text: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? MISSING : `${text}, got ${showValue(issue.input)}`;
}

export const nonEmptyText = z.string().trim().min(1, 'must not be empty');

export const Slug = z.string().regex(SLUG_PATTERN, {
  error: expected('must be a slug (lower-case letters, digits and dashes, starting with a letter or digit)'),
});

export const GroupName = nonEmptyText;

export const ChannelId = z.string().regex(CHANNEL_ID_PATTERN, {
  error: expected('must be a Slack channel id such as C0123ABCD (not a #name)'),
});

/** A duration such as `4h`, in seconds. */
export const DurationSchema = z.unknown().transform((value, ctx): number => {
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: MISSING });
    return z.NEVER;
  }
  const seconds = typeof value === 'string' ? parseDuration(value) : null;
  if (seconds === null) {
    ctx.addIssue({ code: 'custom', message: `must be a duration, ${DURATION_FORM}; got ${showValue(value)}` });
    return z.NEVER;
  }
  return seconds;
});

/**
 * An https:// URL without credentials: where the bot sends what names people and grants (a
 * provisioning webhook, an audit sink). The signature or token proves origin; TLS hides the body.
 * `secretKey` names the key that holds the shared secret instead, for the message.
 */
export function httpsUrl(secretKey: string) {
  return z.string().superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be an https:// URL, got ${showValue(text)}` });
      return;
    }
    if (url.username || url.password) {
      // Never echoed: the value is a credential.
      ctx.addIssue({
        code: 'custom',
        message: `must not carry a user name or password; put the shared secret in the variable ${secretKey} names`,
      });
      return;
    }
    if (url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `must be an https:// URL, got ${showValue(text)}` });
    }
  });
}
