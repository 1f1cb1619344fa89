import * as $Ram from '@alicloud/ram20150501';
import { isCloudError } from './errors.ts';
import { callCloud, type CallHooks } from './call.ts';
import type { RamClient } from './sdk-clients.ts';
import type { CreatePolicyInput, RamPolicy, RamPolicyPort, RamPolicyVersion } from './ports.ts';

const CUSTOM = 'Custom';

function isGone(error: unknown): boolean {
  return (
    isCloudError(error, 'NotFound') ||
    (isCloudError(error) &&
      (error.code === 'EntityNotExist.Policy' || error.code === 'EntityNotExist.Policy.Version'))
  );
}

function defaultOf(body: $Ram.GetPolicyResponseBody | undefined): {
  defaultVersion: string;
  document: string;
} {
  return {
    defaultVersion: body?.policy?.defaultVersion || body?.defaultPolicyVersion?.versionId || '',
    document: body?.defaultPolicyVersion?.policyDocument || body?.policy?.policyDocument || '',
  };
}

/**
 * The Custom-policy half of RamPort over @alicloud/ram20150501 (inline policies). Every call goes
 * through callCloud (rate limit, metrics) on the client whose connect/read timeouts bound it.
 */
export class AlibabaRamPolicies implements RamPolicyPort {
  readonly #client: RamClient;
  readonly #hooks: CallHooks;

  constructor(client: RamClient, hooks: CallHooks = {}) {
    this.#client = client;
    this.#hooks = hooks;
  }

  #call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    return callCloud(this.#hooks, 'ram', action, fn);
  }

  async getCustomPolicy(name: string): Promise<RamPolicy | undefined> {
    try {
      const res = await this.#call('GetPolicy', () =>
        this.#client.getPolicy(new $Ram.GetPolicyRequest({ policyName: name, policyType: CUSTOM })),
      );
      const { defaultVersion, document } = defaultOf(res.body);
      // An answer with only the version id (reference §3): read that version.
      if (!document && defaultVersion)
        return {
          name,
          defaultVersion,
          document: (await this.#version(name, defaultVersion)).document,
        };
      return { name, defaultVersion, document };
    } catch (error) {
      if (isGone(error)) return undefined;
      throw error;
    }
  }

  async #version(name: string, versionId: string): Promise<RamPolicyVersion> {
    const res = await this.#call('GetPolicyVersion', () =>
      this.#client.getPolicyVersion(
        new $Ram.GetPolicyVersionRequest({ policyName: name, policyType: CUSTOM, versionId }),
      ),
    );
    const v = res.body?.policyVersion;
    return {
      versionId: v?.versionId ?? versionId,
      isDefault: v?.isDefaultVersion === true,
      document: v?.policyDocument ?? '',
    };
  }

  async createPolicy(input: CreatePolicyInput): Promise<RamPolicy> {
    const request = new $Ram.CreatePolicyRequest({
      policyName: input.name,
      policyDocument: input.document,
      description: input.description,
      tag: Object.entries(input.tags).map(
        ([key, value]) => new $Ram.CreatePolicyRequestTag({ key, value }),
      ),
    });
    const res = await this.#call('CreatePolicy', () => this.#client.createPolicy(request));
    return {
      name: res.body?.policy?.policyName ?? input.name,
      defaultVersion: res.body?.policy?.defaultVersion ?? 'v1',
      document: input.document,
    };
  }

  async createPolicyVersion(name: string, document: string): Promise<RamPolicyVersion> {
    const request = new $Ram.CreatePolicyVersionRequest({
      policyName: name,
      policyDocument: document,
      setAsDefault: true,
    });
    const res = await this.#call('CreatePolicyVersion', () =>
      this.#client.createPolicyVersion(request),
    );
    const v = res.body?.policyVersion;
    return { versionId: v?.versionId ?? '', isDefault: true, document };
  }

  async listPolicyVersions(name: string): Promise<RamPolicyVersion[]> {
    const res = await this.#call('ListPolicyVersions', () =>
      this.#client.listPolicyVersions(
        new $Ram.ListPolicyVersionsRequest({ policyName: name, policyType: CUSTOM }),
      ),
    );
    return (res.body?.policyVersions?.policyVersion ?? []).map((v) => ({
      versionId: v.versionId ?? '',
      isDefault: v.isDefaultVersion === true,
      document: v.policyDocument ?? '',
    }));
  }

  async setDefaultPolicyVersion(name: string, versionId: string): Promise<void> {
    await this.#call('SetDefaultPolicyVersion', () =>
      this.#client.setDefaultPolicyVersion(
        new $Ram.SetDefaultPolicyVersionRequest({ policyName: name, versionId }),
      ),
    );
  }

  async deletePolicyVersion(name: string, versionId: string): Promise<void> {
    try {
      await this.#call('DeletePolicyVersion', () =>
        this.#client.deletePolicyVersion(
          new $Ram.DeletePolicyVersionRequest({ policyName: name, versionId }),
        ),
      );
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  async deletePolicy(name: string): Promise<void> {
    try {
      // Never CascadingDelete: that would detach the policy from principals we do not own.
      await this.#call('DeletePolicy', () =>
        this.#client.deletePolicy(new $Ram.DeletePolicyRequest({ policyName: name })),
      );
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  async listPolicyTags(name: string): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    let nextToken: string | undefined;
    do {
      const request = new $Ram.ListTagResourcesRequest({
        resourceType: 'policy',
        resourceNames: [name],
        ...(nextToken ? { nextToken } : {}),
      });
      const res = await this.#call('ListTagResources', () =>
        this.#client.listTagResources(request),
      );
      for (const t of res.body?.tagResources ?? [])
        if (t.tagKey !== undefined) tags[t.tagKey] = t.tagValue ?? '';
      nextToken = res.body?.nextToken || undefined;
    } while (nextToken);
    return tags;
  }

  async listPoliciesTagged(tags: Record<string, string>): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const request = new $Ram.ListPoliciesRequest({
        policyType: CUSTOM,
        maxItems: 1000,
        tag: Object.entries(tags).map(
          ([key, value]) => new $Ram.ListPoliciesRequestTag({ key, value }),
        ),
        ...(marker ? { marker } : {}),
      });
      const res = await this.#call('ListPolicies', () => this.#client.listPolicies(request));
      for (const p of res.body?.policies?.policy ?? []) if (p.policyName) names.push(p.policyName);
      marker = res.body?.isTruncated ? res.body.marker || undefined : undefined;
    } while (marker);
    return names;
  }
}
