import type { PolicyRef, RamRole } from '../../src/cloud/ports.ts';
import { policyKey } from '../../src/controller/policies.ts';
import type { PolicyGuardRam } from '../../src/controller/policy-guard.ts';

/**
 * A small in-memory RAM for the policy guardrail's unit tests: roles (with tags and attached
 * policies) and Custom policy documents. Only the methods the guard calls do anything; every
 * call is recorded so a test can assert that no write happened.
 */
export class FakeRamPolicies implements PolicyGuardRam {
  readonly documents = new Map<string, string>();
  readonly roles = new Map<string, { tags: Record<string, string>; attached: PolicyRef[] }>();
  readonly calls: string[] = [];

  withPolicy(name: string, document: object | string): this {
    this.documents.set(
      `custom:${name.toLowerCase()}`,
      typeof document === 'string' ? document : JSON.stringify(document),
    );
    return this;
  }

  withRole(name: string, tags: Record<string, string>, attached: PolicyRef[]): this {
    this.roles.set(name, { tags, attached: [...attached] });
    return this;
  }

  getPolicyDocument(policy: PolicyRef): Promise<string | undefined> {
    this.calls.push(`GetPolicy ${policyKey(policy)}`);
    return Promise.resolve(this.documents.get(policyKey(policy).toLowerCase()));
  }

  getRole(name: string): Promise<RamRole | undefined> {
    this.calls.push(`GetRole ${name}`);
    const role = this.roles.get(name);
    return Promise.resolve(
      role && {
        name,
        arn: `acs:ram::1:role/${name}`,
        roleId: '1',
        trustPolicy: '{}',
        description: '',
        maxSessionDuration: 3600,
      },
    );
  }

  listRoleTags(name: string): Promise<Record<string, string>> {
    this.calls.push(`ListTagResources ${name}`);
    return Promise.resolve({ ...(this.roles.get(name)?.tags ?? {}) });
  }

  listPoliciesForRole(name: string): Promise<PolicyRef[]> {
    this.calls.push(`ListPoliciesForRole ${name}`);
    return Promise.resolve([...(this.roles.get(name)?.attached ?? [])]);
  }

  detachPolicy(roleName: string, policy: PolicyRef): Promise<void> {
    this.calls.push(`DetachPolicyFromRole ${roleName} ${policyKey(policy)}`);
    const role = this.roles.get(roleName);
    if (role) role.attached = role.attached.filter((p) => policyKey(p) !== policyKey(policy));
    return Promise.resolve();
  }

  tagRole(roleName: string, tags: Record<string, string>): Promise<void> {
    this.calls.push(`TagResources ${roleName} ${JSON.stringify(tags)}`);
    const role = this.roles.get(roleName);
    if (role) Object.assign(role.tags, tags);
    return Promise.resolve();
  }
}
