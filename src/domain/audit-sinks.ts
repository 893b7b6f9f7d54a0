/**
 * The audit stream's settings (`audit_sinks` and `audit_checkpoints` in settings.yml) and the
 * delivery state the store keeps per sink. Pure: zod schemas that validate the parsed YAML and
 * transform it into the types below, like the policy schemas.
 */
import * as z from 'zod';
import { formatDuration } from './duration.js';
import {
  ChannelId,
  DurationSchema,
  ENV_NAME_PATTERN,
  expected,
  httpsUrl,
  nonEmptyText,
  showValue,
  Slug,
} from './schema-primitives.js';

/** What a sink receives: our event as stored (`json`), or mapped onto OCSF 1.x classes (`ocsf`). */
export type AuditFormat = 'json' | 'ocsf';

interface SinkCommon {
  /** Unique; names the sink's cursor and lease, so renaming a sink starts it from the first event. */
  name: string;
  format: AuditFormat;
  /** Most events in one batch (a webhook's JSON array, one HEC request, one file write). */
  batchSize: number;
  /** A sink failing for longer than this alerts the alerts channel (then hourly until it recovers). */
  alertAfterSeconds: number;
}

export type WebhookSinkSettings = SinkCommon & {
  type: 'webhook';
  url: string;
  /** The variable holding the HMAC key that signs each batch (`X-Access-Signature`). */
  secretEnv: string;
  timeoutSeconds: number;
};

export type SplunkHecSinkSettings = SinkCommon & {
  type: 'splunk_hec';
  /** The HEC base URL (scheme, host, port); the bot adds /services/collector/event. */
  url: string;
  /** The variable holding the HEC token (`Authorization: Splunk <token>`). */
  tokenEnv: string;
  index: string | null;
  source: string;
  sourcetype: string;
  timeoutSeconds: number;
  /** With indexer acknowledgement on, how long a batch may wait to be indexed before it is sent again. */
  ackTimeoutSeconds: number;
};

export type FileSinkSettings = SinkCommon & {
  type: 'file';
  /** JSON lines, appended and fsynced; a relative path is taken from the database's folder. */
  path: string;
  /** Rotated (to `path.1`, `path.2`, ...) before a write would take it past this size. */
  maxBytes: number;
  /** Rotated files kept. */
  keep: number;
};

export type AuditSinkSettings = WebhookSinkSettings | SplunkHecSinkSettings | FileSinkSettings;
export type AuditSinkType = AuditSinkSettings['type'];

export interface AuditCheckpointSettings {
  everySeconds: number;
  /** The channel each checkpoint is posted to (a witness outside the database). */
  channel: string;
}

/** A sink's delivery state, kept by the store (one row per sink name). */
export interface AuditSinkState {
  name: string;
  /** The last seq the sink confirmed; 0 before its first batch. Moves only forward. */
  deliveredSeq: number;
  deliveredAt: string | null;
  /** When the current run of failures began; null while deliveries succeed. */
  failingSince: string | null;
  /** Failed attempts in a row. */
  failures: number;
  lastError: string | null;
  /** When the alerts channel was last told of the current outage; null when it was not. */
  alertedAt: string | null;
  updatedAt: string;
}

export const SINK_DEFAULTS = {
  format: 'json',
  batchSize: 500,
  alertAfterSeconds: 15 * 60,
  timeoutSeconds: 10,
  ackTimeoutSeconds: 120,
  maxBytes: 100 * 1024 * 1024,
  keep: 10,
  source: 'access-bot',
  sourcetype: { json: 'access-bot:audit', ocsf: 'ocsf' },
} as const;

export const CHECKPOINT_DEFAULT_EVERY_SECONDS = 3600;
const BATCH_SIZE_BOUNDS = { min: 1, max: 5000 } as const;

/** A duration between `min` and `max` seconds, with why in the message. */
function boundedDuration(min: number, max: number, why: string) {
  return DurationSchema.optional().refine((s) => s === undefined || (s >= min && s <= max), {
    error: (issue) =>
      `must be between ${formatDuration(min)} and ${formatDuration(max)} (${why}), got ` +
      (typeof issue.input === 'number' ? formatDuration(issue.input) : showValue(issue.input)),
  });
}

const SIZE_UNITS = { KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;
const SizeSchema = z.unknown().transform((value, ctx): number => {
  const match = typeof value === 'string' ? /^([1-9][0-9]{0,5})\s*(KB|MB|GB)$/.exec(value.trim()) : null;
  const bytes = match ? Number(match[1]) * SIZE_UNITS[match[2] as keyof typeof SIZE_UNITS] : NaN;
  if (!match || bytes < 64 * 1024) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a size of at least 64KB, written like 100MB (units KB, MB, GB), got ${showValue(value)}`,
    });
    return z.NEVER;
  }
  return bytes;
});

const envName = (holds: string, example: string) =>
  z.string().regex(ENV_NAME_PATTERN, {
    error: expected(`must be the NAME of an environment variable holding ${holds} (like ${example})`),
  });

const common = {
  name: Slug,
  format: z.enum(['json', 'ocsf'], { error: expected("must be 'json' or 'ocsf'") }).default(SINK_DEFAULTS.format),
  batch: z
    .int({ error: expected('must be a whole number of events') })
    .min(BATCH_SIZE_BOUNDS.min, { error: expected(`must be at least ${BATCH_SIZE_BOUNDS.min}`) })
    .max(BATCH_SIZE_BOUNDS.max, { error: expected(`must be at most ${BATCH_SIZE_BOUNDS.max}`) })
    .optional(),
  alert_after: boundedDuration(60, 7 * 86_400, 'a sink failing this long alerts the alerts channel'),
};

const commonOf = (s: {
  name: string;
  format: AuditFormat;
  batch?: number | undefined;
  alert_after?: number | undefined;
}): SinkCommon => ({
  name: s.name,
  format: s.format,
  batchSize: s.batch ?? SINK_DEFAULTS.batchSize,
  alertAfterSeconds: s.alert_after ?? SINK_DEFAULTS.alertAfterSeconds,
});

const timeout = boundedDuration(1, 60, 'a request must not hold the stream longer');

const WebhookSinkSchema = z
  .strictObject({
    ...common,
    type: z.literal('webhook'),
    url: httpsUrl('secret_env'),
    secret_env: envName('the HMAC key that signs each batch', 'SIEM_HOOK_SECRET'),
    timeout,
  })
  .transform((s): WebhookSinkSettings => ({
    ...commonOf(s),
    type: 'webhook',
    url: s.url,
    secretEnv: s.secret_env,
    timeoutSeconds: s.timeout ?? SINK_DEFAULTS.timeoutSeconds,
  }));

const SplunkHecSinkSchema = z
  .strictObject({
    ...common,
    type: z.literal('splunk_hec'),
    url: httpsUrl('token_env').superRefine((text, ctx) => {
      if (URL.canParse(text) && hecBase(text) === null) {
        ctx.addIssue({
          code: 'custom',
          message: `must be the HEC address (https://host:8088), optionally with /services/collector/event, got ${showValue(text)}`,
        });
      }
    }),
    token_env: envName('the HEC token', 'SPLUNK_HEC_TOKEN'),
    index: nonEmptyText.optional(),
    source: nonEmptyText.optional(),
    sourcetype: nonEmptyText.optional(),
    timeout,
    ack_timeout: boundedDuration(5, 3600, 'how long an acknowledged batch may take to be indexed'),
  })
  .transform((s): SplunkHecSinkSettings => ({
    ...commonOf(s),
    type: 'splunk_hec',
    url: hecBase(s.url)!,
    tokenEnv: s.token_env,
    index: s.index ?? null,
    source: s.source ?? SINK_DEFAULTS.source,
    sourcetype: s.sourcetype ?? SINK_DEFAULTS.sourcetype[s.format],
    timeoutSeconds: s.timeout ?? SINK_DEFAULTS.timeoutSeconds,
    ackTimeoutSeconds: s.ack_timeout ?? SINK_DEFAULTS.ackTimeoutSeconds,
  }));

const FileSinkSchema = z
  .strictObject({
    ...common,
    type: z.literal('file'),
    path: nonEmptyText,
    max_size: SizeSchema.optional(),
    keep: z
      .int({ error: expected('must be a whole number of files') })
      .min(1, { error: expected('must be at least 1') })
      .max(1000, { error: expected('must be at most 1000') })
      .optional(),
  })
  .transform((s): FileSinkSettings => ({
    ...commonOf(s),
    type: 'file',
    path: s.path,
    maxBytes: s.max_size ?? SINK_DEFAULTS.maxBytes,
    keep: s.keep ?? SINK_DEFAULTS.keep,
  }));

const SINK_TYPES = { webhook: WebhookSinkSchema, splunk_hec: SplunkHecSinkSchema, file: FileSinkSchema } as const;

/** One sink: its `type` picks the schema, so an unknown key is reported against that type. */
const AuditSinkSchema = z.unknown().transform((value, ctx): AuditSinkSettings => {
  const type =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>).type
      : undefined;
  const schema = typeof type === 'string' ? SINK_TYPES[type as keyof typeof SINK_TYPES] : undefined;
  if (!schema) {
    const message =
      type === undefined
        ? "required key 'type' is missing (webhook, splunk_hec or file)"
        : `must be webhook, splunk_hec or file, got ${showValue(type)}`;
    ctx.addIssue({ code: 'custom', message, path: type === undefined ? [] : ['type'] });
    return z.NEVER;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

/** The list of sinks: each checked on its own, and names unique (also when another key is wrong). */
export const AuditSinksSchema = z.unknown().transform((value, ctx): AuditSinkSettings[] => {
  if (!Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: `must be a list of sinks, got ${showValue(value)}` });
    return z.NEVER;
  }
  const seen = new Map<string, number>();
  value.forEach((item, index) => {
    const name = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).name : undefined;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `sink name '${name}' is already used by audit_sinks[${first}]; names are unique`,
      });
    else seen.set(name, index);
  });
  const result = z.array(AuditSinkSchema).safeParse(value);
  if (!result.success)
    for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
  return result.success && seen.size === value.length ? result.data : z.NEVER;
});

export const AuditCheckpointsSchema = z.strictObject({
  every: boundedDuration(60, 7 * 86_400, 'a signed statement of the head this often').transform(
    (s) => s ?? CHECKPOINT_DEFAULT_EVERY_SECONDS,
  ),
  channel: ChannelId.optional(),
});

/** The variables sinks name, for the "is it set?" check: the settings key and what it holds. */
export function sinkSecrets(sink: AuditSinkSettings): { key: string; variable: string; holds: string } | null {
  if (sink.type === 'webhook')
    return { key: 'secret_env', variable: sink.secretEnv, holds: `the HMAC key of audit sink ${sink.name}` };
  if (sink.type === 'splunk_hec')
    return { key: 'token_env', variable: sink.tokenEnv, holds: `the HEC token of audit sink ${sink.name}` };
  return null;
}

/** `https://host:8088` from any spelling of a HEC address (the base, or the event endpoint). */
function hecBase(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const path = url.pathname.replace(/\/+$/, '');
  if (url.search || url.hash) return null;
  if (path !== '' && path !== '/services/collector' && path !== '/services/collector/event') return null;
  return url.origin;
}

/** Where a sink sends, for messages, logs and /healthz (never a secret: no query string). */
export function sinkTarget(sink: AuditSinkSettings): string {
  if (sink.type === 'file') return sink.path;
  const url = new URL(sink.url);
  return `${url.origin}${url.pathname === '/' ? '' : url.pathname}`;
}
