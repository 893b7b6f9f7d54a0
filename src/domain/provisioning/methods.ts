/**
 * Every provisioning method, by the key a policy file names it with. The `Provision` type, the
 * `provision:` schema and everything the core asks of a provisioning come from this list.
 */
import * as z from 'zod';
import { manualMethod } from './manual.js';
import { isRecord, MISSING, showValue } from '../schema-primitives.js';
import type { ProvisionDescription, ProvisionMethod } from './method.js';
import { oktaGroupMethod } from './okta-group.js';
import { webhookMethod } from './webhook.js';

export const PROVISION_METHODS = [oktaGroupMethod, webhookMethod, manualMethod] as const;

/** How a role's access is given and taken back, as the policy says (and a grant's snapshot keeps). */
export type Provision = z.output<(typeof PROVISION_METHODS)[number]['schema']>;

export type ProvisionMethodName = Provision['method'];

const BY_NAME = new Map<string, ProvisionMethod>(
  PROVISION_METHODS.map((m) => [m.method, m as unknown as ProvisionMethod]),
);

const NAMES = PROVISION_METHODS.map((m) => m.method);
const NAME_LIST = `${NAMES.slice(0, -1).join(', ')} or ${NAMES.at(-1)}`;

/** The method of a provisioning. Throws for one this build does not know (a grant from a newer version). */
export function provisionMethod(provision: Provision): ProvisionMethod<Provision> {
  const method = BY_NAME.get(provision.method);
  if (!method) throw new Error(`unknown provisioning method ${JSON.stringify(provision.method)}`);
  return method as unknown as ProvisionMethod<Provision>;
}

export function describeProvision(provision: Provision): ProvisionDescription {
  return provisionMethod(provision).describe(provision);
}

/** The directory group a grant through this provisioning is membership of, if any. */
export function managedGroup(provision: Provision): string | null {
  return provisionMethod(provision).managedGroup(provision);
}

/** `provision:` in a policy file: exactly one method, its value validated by the method's schema. */
export const ProvisionSchema = z.unknown().transform((value, ctx): Provision => {
  if (!isRecord(value)) {
    ctx.addIssue({
      code: 'custom',
      message: value === undefined ? MISSING : `must be a mapping, got ${showValue(value)}`,
    });
    return z.NEVER;
  }
  const present = Object.keys(value);
  const unknown = present.filter((key) => !BY_NAME.has(key));
  if (unknown.length) {
    ctx.addIssue({
      code: 'unrecognized_keys',
      keys: unknown,
      input: value,
      message: `unknown keys ${unknown.join(', ')}`,
    });
    return z.NEVER;
  }
  if (present.length === 0) {
    ctx.addIssue({ code: 'custom', message: `needs one provisioning method: ${NAME_LIST}` });
    return z.NEVER;
  }
  if (present.length > 1) {
    ctx.addIssue({
      code: 'custom',
      message: `has ${NAMES.filter((n) => present.includes(n)).join(' and ')}; choose exactly one of ${NAME_LIST}`,
    });
    return z.NEVER;
  }
  const key = present[0]!;
  const result = BY_NAME.get(key)!.schema.safeParse(value[key]);
  if (result.success) return result.data as Provision;
  for (const issue of result.error.issues)
    ctx.addIssue({ ...issue, path: [key, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});
