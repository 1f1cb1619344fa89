import * as $Ram from '@alicloud/ram20150501';
import { isCloudError } from './errors.ts';
import { AlibabaRamPolicies } from './alibaba-ram-policies.ts';
import { callCloud, type CallHooks } from './call.ts';
import type { RamClient } from './sdk-clients.ts';
import type { CreateRoleInput, PolicyRef, RamPort, RamRole, UpdateRoleInput } from './ports.ts';

interface SdkRole {
  roleName?: string | undefined;
  arn?: string | undefined;
  roleId?: string | undefined;
  assumeRolePolicyDocument?: string | undefined;
  description?: string | undefined;
  maxSessionDuration?: number | undefined;
}

function toRole(role: SdkRole | undefined, fallbackName: string): RamRole {
  return {
    name: role?.roleName ?? fallbackName,
    arn: role?.arn ?? '',
    roleId: role?.roleId ?? '',
    trustPolicy: role?.assumeRolePolicyDocument ?? '',
    description: role?.description ?? '',
    maxSessionDuration: role?.maxSessionDuration ?? 3600,
  };
}

function tagList(tags: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

function isPolicyMissing(error: unknown): boolean {
  return isCloudError(error) && error.code === 'EntityNotExist.Policy';
}

function inlineDocument(body: $Ram.GetPolicyResponseBody | undefined): {
  document: string | undefined;
  versionId: string | undefined;
} {
  return {
    document: body?.defaultPolicyVersion?.policyDocument || body?.policy?.policyDocument,
    versionId: body?.policy?.defaultVersion || body?.defaultPolicyVersion?.versionId,
  };
}

/** RamPort over @alicloud/ram20150501. */
export class AlibabaRam extends AlibabaRamPolicies implements RamPort {
  readonly #client: RamClient;
  readonly #hooks: CallHooks;

  constructor(client: RamClient, hooks: CallHooks = {}) {
    super(client, hooks);
    this.#client = client;
    this.#hooks = hooks;
  }

  #call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    return callCloud(this.#hooks, 'ram', action, fn);
  }

  async getRole(name: string): Promise<RamRole | undefined> {
    try {
      const res = await this.#call('GetRole', () =>
        this.#client.getRole(new $Ram.GetRoleRequest({ roleName: name })),
      );
      return toRole(res.body?.role, name);
    } catch (error) {
      if (isCloudError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  async createRole(input: CreateRoleInput): Promise<RamRole> {
    const request = new $Ram.CreateRoleRequest({
      roleName: input.name,
      assumeRolePolicyDocument: input.trustPolicy,
      ...(input.description ? { description: input.description } : {}),
      ...(input.maxSessionDuration ? { maxSessionDuration: input.maxSessionDuration } : {}),
      tag: tagList(input.tags).map((t) => new $Ram.CreateRoleRequestTag(t)),
    });
    const res = await this.#call('CreateRole', () => this.#client.createRole(request));
    return toRole(res.body?.role, input.name);
  }

  async updateRole(name: string, input: UpdateRoleInput): Promise<RamRole> {
    const request = new $Ram.UpdateRoleRequest({
      roleName: name,
      ...(input.trustPolicy !== undefined
        ? { newAssumeRolePolicyDocument: input.trustPolicy }
        : {}),
      ...(input.description !== undefined ? { newDescription: input.description } : {}),
      ...(input.maxSessionDuration !== undefined
        ? { newMaxSessionDuration: input.maxSessionDuration }
        : {}),
    });
    const res = await this.#call('UpdateRole', () => this.#client.updateRole(request));
    return toRole(res.body?.role, name);
  }

  async deleteRole(name: string): Promise<void> {
    try {
      await this.#call('DeleteRole', () =>
        this.#client.deleteRole(new $Ram.DeleteRoleRequest({ roleName: name })),
      );
    } catch (error) {
      if (!isCloudError(error, 'NotFound')) throw error;
    }
  }

  async listPoliciesForRole(roleName: string): Promise<PolicyRef[]> {
    const res = await this.#call('ListPoliciesForRole', () =>
      this.#client.listPoliciesForRole(new $Ram.ListPoliciesForRoleRequest({ roleName })),
    );
    return (res.body?.policies?.policy ?? []).map((p) => ({
      type: p.policyType === 'Custom' ? 'Custom' : 'System',
      name: p.policyName ?? '',
    }));
  }

  async attachPolicy(roleName: string, policy: PolicyRef): Promise<void> {
    try {
      await this.#call('AttachPolicyToRole', () =>
        this.#client.attachPolicyToRole(
          new $Ram.AttachPolicyToRoleRequest({
            roleName,
            policyName: policy.name,
            policyType: policy.type,
          }),
        ),
      );
    } catch (error) {
      // Already attached (a retry after a lost response): the desired state holds.
      if (!(isCloudError(error, 'Conflict') && error.code === 'EntityAlreadyExists.Role.Policy'))
        throw error;
    }
  }

  async detachPolicy(roleName: string, policy: PolicyRef): Promise<void> {
    try {
      await this.#call('DetachPolicyFromRole', () =>
        this.#client.detachPolicyFromRole(
          new $Ram.DetachPolicyFromRoleRequest({
            roleName,
            policyName: policy.name,
            policyType: policy.type,
          }),
        ),
      );
    } catch (error) {
      // Not attached (NotFound), or the policy itself is gone, so it cannot be attached either.
      if (!(isCloudError(error, 'NotFound') || isPolicyMissing(error))) throw error;
    }
  }

  async getPolicyDocument(policy: PolicyRef): Promise<string | undefined> {
    try {
      const res = await this.#call('GetPolicy', () =>
        this.#client.getPolicy(
          new $Ram.GetPolicyRequest({ policyName: policy.name, policyType: policy.type }),
        ),
      );
      // Real RAM returns the default version's document with the policy (reference §3); an
      // answer carrying only the version id falls back to GetPolicyVersion.
      const inline = inlineDocument(res.body);
      if (inline.document) return inline.document;
      return inline.versionId ? await this.#policyVersionDocument(policy, inline.versionId) : '';
    } catch (error) {
      if (isPolicyMissing(error) || isCloudError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  async #policyVersionDocument(policy: PolicyRef, versionId: string): Promise<string> {
    const res = await this.#call('GetPolicyVersion', () =>
      this.#client.getPolicyVersion(
        new $Ram.GetPolicyVersionRequest({
          policyName: policy.name,
          policyType: policy.type,
          versionId,
        }),
      ),
    );
    return res.body?.policyVersion?.policyDocument ?? '';
  }

  async listRoleTags(roleName: string): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    let nextToken: string | undefined;
    do {
      const request = new $Ram.ListTagResourcesRequest({
        resourceType: 'role',
        resourceNames: [roleName],
        ...(nextToken ? { nextToken } : {}),
      });
      const res = await this.#call('ListTagResources', () =>
        this.#client.listTagResources(request),
      );
      for (const t of res.body?.tagResources ?? []) {
        if (t.tagKey !== undefined) tags[t.tagKey] = t.tagValue ?? '';
      }
      nextToken = res.body?.nextToken || undefined;
    } while (nextToken);
    return tags;
  }

  async tagRole(roleName: string, tags: Record<string, string>): Promise<void> {
    const request = new $Ram.TagResourcesRequest({
      resourceType: 'role',
      resourceNames: [roleName],
      tag: tagList(tags).map((t) => new $Ram.TagResourcesRequestTag(t)),
    });
    await this.#call('TagResources', () => this.#client.tagResources(request));
  }

  async untagRole(roleName: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const request = new $Ram.UntagResourcesRequest({
      resourceType: 'role',
      resourceNames: [roleName],
      tagKeys: [...keys],
    });
    await this.#call('UntagResources', () => this.#client.untagResources(request));
  }
}
