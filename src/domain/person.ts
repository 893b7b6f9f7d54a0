/** A person as the directory (Okta, or the YAML directory) knows them. */
export interface Person {
  /** The directory's immutable id (Okta user id). */
  id: string;
  email: string;
  login: string;
  name: string;
  /** The directory's own status, lower-case: active, suspended, deprovisioned, staged, locked_out, ... */
  status: string;
  /** Whether the person may act: request, approve, hold access. */
  active: boolean;
  /** Free-form title for display ("Engineering manager"). */
  title?: string;
}

/**
 * Statuses in which a person still works here. Okta's LOCKED_OUT, PASSWORD_EXPIRED and RECOVERY are
 * sign-in states of an employed person; SUSPENDED and DEPROVISIONED are not.
 */
const ACTIVE_STATUSES = new Set(['active', 'locked_out', 'password_expired', 'recovery']);

export function isActiveStatus(status: string): boolean {
  return ACTIVE_STATUSES.has(status.toLowerCase());
}

/** Statuses that end every grant the person holds. */
export function isOffboardedStatus(status: string): boolean {
  const s = status.toLowerCase();
  return s === 'suspended' || s === 'deprovisioned' || s === 'gone';
}
