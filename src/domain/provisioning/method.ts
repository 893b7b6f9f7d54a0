/**
 * A provisioning method as the core knows it: the shape of its `provision.<method>` value in a
 * policy file (validated and normalised), its canonical form in the policy version, and how it
 * reads to people. Pure: the effects (adding to a group, calling a webhook, creating a task) are
 * the provisioners in src/adapters/provisioners/, behind the `Provisioner` port.
 *
 * Adding a method: its definition here (one file, listed in methods.ts), its provisioner (one
 * file, registered in the composition root), their tests, and the README's policy reference.
 */
import type { z } from 'zod';

/** How a provisioning reads to people and in exports. */
export interface ProvisionDescription {
  /** The method's name, as in policy files (`okta_group`). */
  method: string;
  /** What it provisions: the group, the webhook's URL, the assignee group (`provisioning_target`). */
  target: string;
  /** True when it completes without a person (a manual task waits for someone's Done). */
  automatic: boolean;
}

/** A directory group a provisioning names, for the start-up check against the directory. */
export interface NamedGroup {
  group: string;
  /** The bot changes its membership (it must be a group the directory's API can change). */
  managed: boolean;
  /** Where under `provision.<method>` it is written, for the problem's file:line. */
  key: (string | number)[];
}

export interface ProvisionMethod<P extends { method: string } = { method: string }> {
  /** The key under `provision:` in a policy file, and `Provision.method`. */
  readonly method: P['method'];
  /** The value under `provision.<method>`, validated (strict: unknown keys are errors) and normalised. */
  readonly schema: z.ZodType<P>;
  /** The definition in the policy's canonical form (its hash is the policy version). */
  canonical(provision: P): unknown;
  describe(provision: P): ProvisionDescription;
  /** The directory groups it names. */
  groups(provision: P): NamedGroup[];
  /**
   * The directory group whose membership a grant through it is (`okta_group`): grants are indexed
   * by it, to keep a person in a group another grant still needs and to reconcile the group.
   */
  managedGroup(provision: P): string | null;
  /**
   * Keys under `provision.<method>` whose value names an environment variable that must be set
   * (a webhook's `secret_env`), and what the variable holds: checked when the policies load.
   */
  readonly secrets: readonly { key: string; holds: string }[];
}

/** Declares a method with its provision type inferred from its schema. */
export function defineProvisionMethod<P extends { method: string }>(method: ProvisionMethod<P>): ProvisionMethod<P> {
  return method;
}
