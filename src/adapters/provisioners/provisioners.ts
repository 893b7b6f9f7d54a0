/**
 * The provisioners of every provisioning method, by name: what the composition root hands the
 * operations (`Deps.provisioners`). A method added to the domain (src/domain/provisioning/) is a
 * type error here until its provisioner is listed.
 */
import type { Directory, Provisioners } from '../../operations/ports.js';
import { manualProvisioner } from './manual-provisioner.js';
import { oktaGroupProvisioner } from './okta-group-provisioner.js';
import { WebhookClient, webhookProvisioner, type WebhookTransport } from './webhook-provisioner.js';

export interface ProvisionerOptions {
  directory: Directory;
  /** Where secrets named in the policies are read (a webhook's HMAC key). */
  env: Record<string, string | undefined>;
  /** Replaces the webhook's HTTP client (tests; the sandbox's embedded receiver). */
  webhook?: WebhookTransport;
}

export function createProvisioners(options: ProvisionerOptions): Provisioners {
  return {
    okta_group: oktaGroupProvisioner(options.directory),
    webhook: webhookProvisioner(options.webhook ?? new WebhookClient({ env: options.env })),
    manual: manualProvisioner(),
  };
}
