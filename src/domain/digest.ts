/**
 * The weekly security digest as data: what `buildDigest` computes from the store and what the
 * Block Kit builder (`blocks/digest.ts`), the CLI and the CSV attachment render. Lists are complete
 * here; renderers cut them to fit (top-N and "and N more").
 */

export interface DigestPerson {
  directoryId: string;
  name: string;
  email: string;
}

/** One grant as the digest lists it. */
export interface DigestGrantLine {
  grantId: string;
  person: DigestPerson;
  app: string;
  appName: string;
  role: string;
  roleName: string;
  sensitive: boolean;
  /** When the listed event happened (activated, extended, revoked, failed). */
  at: string;
  /** A short phrase for the event: the revocation reason, "+2 hours", the last error. */
  detail?: string;
}

export interface DigestHolding extends DigestGrantLine {
  since: string;
  until: string | null;
  /** Names of the people who approved the grant's request; empty: approved automatically. */
  approvedBy: string[];
}

/** Emergency access: taken this week, or taken earlier and still not reviewed. */
export interface DigestBreakGlass extends DigestGrantLine {
  durationSeconds: number;
  review: 'pending' | 'justified' | 'not_justified';
  reviewer: string | null;
  reviewedAt: string | null;
  dueAt: string;
  /** Not reviewed and past its due time. */
  overdue: boolean;
}

export interface DigestOverdue extends DigestGrantLine {
  startedAt: string;
  failures: number;
  why: string;
  lastError: string | null;
}

export interface DigestRepeatedExtension {
  person: DigestPerson;
  app: string;
  appName: string;
  role: string;
  roleName: string;
  /** Extensions of this access in the look-back window. */
  count: number;
}

export interface DigestDrift {
  group: string;
  person: { directoryId: string; email: string; name?: string };
  at: string;
}

export interface Digest {
  generatedAt: string;
  /** The week: [periodStart, periodEnd). */
  periodStart: string;
  periodEnd: string;
  timezone: string;
  /** Active grants of sensitive roles now, by app, role and start. */
  sensitiveHolders: DigestHolding[];
  granted: DigestGrantLine[];
  extended: DigestGrantLine[];
  revoked: DigestGrantLine[];
  /** Revocations of the week by reason (expired, relinquished, revoked, offboarded, removed_externally). */
  revokedByReason: Record<string, number>;
  failures: {
    provisioningFailed: DigestGrantLine[];
    /** Grants whose revocation failed at least once this week (`detail`: the last error). */
    revocationFailed: (DigestGrantLine & { attempts: number })[];
    /** Messages the bot gave up sending. */
    messagesGivenUp: number;
  };
  overdueRevocations: DigestOverdue[];
  /** Break-glass access taken this week, and any still unreviewed; unreviewed first. */
  breakGlass: DigestBreakGlass[];
  /** The same person extending the same access `REPEATED_EXTENSION_THRESHOLD` times or more. */
  repeatedExtensions: DigestRepeatedExtension[];
  repeatedExtensionWindowDays: number;
  drift: {
    /** New findings of access granted outside the bot this week. */
    detected: DigestDrift[];
    /** Grants ended because someone removed the person outside the bot this week. */
    removedExternally: DigestGrantLine[];
    /** Findings still open now (including older ones). */
    openNow: number;
  };
  auditHead: { seq: number; hash: string };
}

export const DIGEST_PERIOD_DAYS = 7;
export const REPEATED_EXTENSION_THRESHOLD = 3;
export const REPEATED_EXTENSION_WINDOW_DAYS = 30;
