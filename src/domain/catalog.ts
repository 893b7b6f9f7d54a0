/** The policies in force: look-ups by app and role, with each role's version computed once. */
import type { LoadedPolicy, PolicyRef } from './policy.js';
import { policyVersion } from './policy-version.js';

export interface CatalogEntry extends PolicyRef {
  app: LoadedPolicy;
}

export class Catalog {
  private readonly byKey = new Map<string, CatalogEntry>();
  private readonly byPolicyName = new Map<string, CatalogEntry>();

  constructor(readonly policies: readonly LoadedPolicy[]) {
    for (const app of policies) {
      for (const role of app.roles) {
        const entry: CatalogEntry = { app, role, version: policyVersion(app, role) };
        this.byKey.set(`${app.app}/${role.id}`, entry);
        this.byPolicyName.set(role.policy, entry);
      }
    }
  }

  find(app: string, role: string): CatalogEntry | undefined {
    return this.byKey.get(`${app}/${role}`);
  }

  findByPolicyName(policy: string): CatalogEntry | undefined {
    return this.byPolicyName.get(policy);
  }

  entries(): CatalogEntry[] {
    return [...this.byKey.values()];
  }

  app(app: string): LoadedPolicy | undefined {
    return this.policies.find((p) => p.app === app);
  }
}
