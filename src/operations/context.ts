import { randomBytes } from 'node:crypto';
import type { Catalog } from '../domain/catalog.js';
import type { Settings } from '../domain/policy.js';
import type { Notification } from '../domain/records.js';
import type { Clock, Directory, Logger, Store } from './ports.js';

/** A webhook provisioner: one signed POST per call; throws TransientError or PermanentError. */
export interface WebhookPort {
  call(
    target: { url: string; secretEnv: string; timeoutSeconds: number },
    call: { action: 'grant' | 'revoke'; requestId: string; grantId: string; app: string; role: string; user: { email: string; oktaId: string }; expiresAt: string | null },
    /** `idempotencyKey` replaces the usual `<grant id>:<action>` (a compensating second revoke). */
    options?: { idempotencyKey?: string },
  ): Promise<{ status: number }>;
}

/** Delivers a message the bot owes someone. `key` is the job's idempotency key: the same key is one message. */
export interface Notifier {
  deliver(notification: Notification, key: string): Promise<void>;
}

/** Everything an operation may use. Built once in the composition root (main.ts) or a test. */
export interface Deps {
  store: Store;
  directory: Directory;
  catalog: Catalog;
  settings: Settings;
  clock: Clock;
  logger: Logger;
  webhook: WebhookPort;
  notifier: Notifier;
  ids?: IdSource;
}

export interface IdSource {
  next(prefix: string): string;
}

/** Sortable, unguessable ids: `req_` + time + random. */
export const randomIds: IdSource = {
  next(prefix: string): string {
    return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
  },
};

export function newId(deps: Deps, prefix: 'req' | 'grt' | 'ext' | 'tsk'): string {
  return (deps.ids ?? randomIds).next(prefix);
}

export function nowIso(deps: Deps): string {
  return deps.clock.now().toISOString();
}

export function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}
