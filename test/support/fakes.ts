/**
 * In-memory fakes of the controller's ports (RAM, bindings, ServiceAccounts, Events), so the
 * reconciler and finalizer are unit-tested without servers, in milliseconds. Every fake records
 * its calls and runs an optional `before` hook first: a test throws from it to inject a fault, or
 * awaits in it to interleave two reconciles deterministically.
 */
import type { PodIdentityBinding, PodIdentityBindingStatus } from '../../src/api/types.ts';
import { FINALIZER } from '../../src/api/types.ts';
import { CloudError, type CloudErrorKind } from '../../src/cloud/errors.ts';
import type {
  CreatePolicyInput,
  CreateRoleInput,
  PolicyRef,
  RamPolicy,
  RamPolicyVersion,
  RamPort,
  RamRole,
  UpdateRoleInput,
} from '../../src/cloud/ports.ts';
import type {
  BindingStore,
  ClusterIdentity,
  ReconcilerDeps,
  ServiceAccountState,
  ServiceAccountStore,
} from '../../src/controller/types.ts';
import type { EventSink, EventType, InvolvedObject } from '../../src/kube/events.ts';
import { BindingReconciler } from '../../src/controller/reconciler.ts';
import { DEFAULT_GUARDRAILS } from '../../src/identity/guardrails.ts';

export type BeforeHook = (method: string, args: readonly unknown[]) => Promise<void> | void;

export function cloudError(kind: CloudErrorKind, code: string, retryAfterMs?: number): CloudError {
  return new CloudError({
    kind,
    code,
    action: 'Fake',
    message: `${code} (injected)`,
    requestId: 'REQ-1',
    retryAfterMs,
  });
}

/** A promise with its resolve exposed: lets a test hold a call until it says go. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A Custom policy as RAM keeps it: versions (v1, v2, ... never reused), default, tags. */
export interface FakePolicyRecord {
  versions: RamPolicyVersion[];
  nextVersion: number;
  tags: Record<string, string>;
}

interface FakeRoleRecord {
  role: RamRole;
  tags: Record<string, string>;
  attached: PolicyRef[];
}

export class FakeRam implements RamPort {
  readonly roles = new Map<string, FakeRoleRecord>();
  /** Custom policy documents by `Custom:name` (System policies are judged by name only). */
  readonly documents = new Map<string, string>();
  /** Custom policies the inline-policy calls manage, by lowercase name (RAM ignores case). */
  readonly policies = new Map<string, FakePolicyRecord>();
  readonly calls: { method: string; args: readonly unknown[] }[] = [];
  before: BeforeHook | undefined;

  readonly accountId: string = '1234567890123456';

  seedRole(name: string, fields: Partial<FakeRoleRecord> & { trustPolicy?: string } = {}): void {
    this.roles.set(name, {
      role: {
        name,
        arn: `acs:ram::${this.accountId}:role/${name.toLowerCase()}`,
        roleId: `3${this.roles.size}`,
        trustPolicy: fields.trustPolicy ?? '{"Version":"1","Statement":[]}',
        description: '',
        maxSessionDuration: 3600,
        ...fields.role,
      },
      tags: { ...fields.tags },
      attached: [...(fields.attached ?? [])],
    });
  }

  writes(): string[] {
    const reads = new Set([
      'getRole',
      'listPoliciesForRole',
      'listRoleTags',
      'getPolicyDocument',
      'getCustomPolicy',
      'listPolicyVersions',
      'listPolicyTags',
      'listPoliciesTagged',
    ]);
    return this.calls.filter((c) => !reads.has(c.method)).map((c) => c.method);
  }

  async #enter(method: string, args: readonly unknown[]): Promise<void> {
    this.calls.push({ method, args });
    await this.before?.(method, args);
  }

  #record(name: string): FakeRoleRecord {
    const record = this.roles.get(name);
    if (!record) throw cloudError('NotFound', 'EntityNotExist.Role');
    return record;
  }

  async getRole(name: string): Promise<RamRole | undefined> {
    await this.#enter('getRole', [name]);
    const record = this.roles.get(name);
    return record && { ...record.role };
  }

  async createRole(input: CreateRoleInput): Promise<RamRole> {
    await this.#enter('createRole', [input]);
    if (this.roles.has(input.name)) throw cloudError('Conflict', 'EntityAlreadyExists.Role');
    this.seedRole(input.name, { trustPolicy: input.trustPolicy, tags: input.tags });
    const created = this.#record(input.name).role;
    if (input.description !== undefined) created.description = input.description;
    if (input.maxSessionDuration !== undefined)
      created.maxSessionDuration = input.maxSessionDuration;
    return { ...this.#record(input.name).role };
  }

  async updateRole(name: string, input: UpdateRoleInput): Promise<RamRole> {
    await this.#enter('updateRole', [name, input]);
    const record = this.#record(name);
    if (input.trustPolicy !== undefined) record.role.trustPolicy = input.trustPolicy;
    if (input.description !== undefined) record.role.description = input.description;
    if (input.maxSessionDuration !== undefined)
      record.role.maxSessionDuration = input.maxSessionDuration;
    return { ...record.role };
  }

  async deleteRole(name: string): Promise<void> {
    await this.#enter('deleteRole', [name]);
    const record = this.roles.get(name);
    if (record && record.attached.length > 0)
      throw cloudError('Conflict', 'DeleteConflict.Role.Policy');
    this.roles.delete(name);
  }

  async listPoliciesForRole(roleName: string): Promise<PolicyRef[]> {
    await this.#enter('listPoliciesForRole', [roleName]);
    return this.#record(roleName).attached.map((p) => ({ ...p }));
  }

  async attachPolicy(roleName: string, policy: PolicyRef): Promise<void> {
    await this.#enter('attachPolicy', [roleName, policy]);
    const record = this.#record(roleName);
    if (!record.attached.some((p) => p.type === policy.type && p.name === policy.name))
      record.attached.push({ ...policy });
  }

  async detachPolicy(roleName: string, policy: PolicyRef): Promise<void> {
    await this.#enter('detachPolicy', [roleName, policy]);
    const record = this.#record(roleName);
    record.attached = record.attached.filter(
      (p) => !(p.type === policy.type && p.name === policy.name),
    );
  }

  async listRoleTags(roleName: string): Promise<Record<string, string>> {
    await this.#enter('listRoleTags', [roleName]);
    return { ...this.#record(roleName).tags };
  }

  async tagRole(roleName: string, tags: Record<string, string>): Promise<void> {
    await this.#enter('tagRole', [roleName, tags]);
    Object.assign(this.#record(roleName).tags, tags);
  }

  async getPolicyDocument(policy: PolicyRef): Promise<string | undefined> {
    await this.#enter('getPolicyDocument', [policy]);
    return this.documents.get(`${policy.type}:${policy.name}`);
  }

  async untagRole(roleName: string, keys: readonly string[]): Promise<void> {
    await this.#enter('untagRole', [roleName, keys]);
    const record = this.#record(roleName);
    for (const key of keys) delete record.tags[key];
  }

  #policy(name: string): FakePolicyRecord {
    const record = this.policies.get(name.toLowerCase());
    if (!record) throw cloudError('Terminal', 'EntityNotExist.Policy');
    return record;
  }

  #view(name: string, record: FakePolicyRecord): RamPolicy {
    const current = record.versions.find((v) => v.isDefault)!;
    return { name, defaultVersion: current.versionId, document: current.document };
  }

  async getCustomPolicy(name: string): Promise<RamPolicy | undefined> {
    await this.#enter('getCustomPolicy', [name]);
    const record = this.policies.get(name.toLowerCase());
    return record && this.#view(name, record);
  }

  async createPolicy(input: CreatePolicyInput): Promise<RamPolicy> {
    await this.#enter('createPolicy', [input]);
    if (this.policies.has(input.name.toLowerCase()))
      throw cloudError('Conflict', 'EntityAlreadyExists.Policy');
    const record = {
      versions: [{ versionId: 'v1', isDefault: true, document: input.document }],
      nextVersion: 2,
      tags: { ...input.tags },
    };
    this.policies.set(input.name.toLowerCase(), record);
    return this.#view(input.name, record);
  }

  async createPolicyVersion(name: string, document: string): Promise<RamPolicyVersion> {
    await this.#enter('createPolicyVersion', [name, document]);
    const record = this.#policy(name);
    if (record.versions.length >= 5) throw cloudError('Conflict', 'LimitExceeded.Policy.Version');
    for (const v of record.versions) v.isDefault = false;
    const version = { versionId: `v${record.nextVersion++}`, isDefault: true, document };
    record.versions.push(version);
    return { ...version };
  }

  async listPolicyVersions(name: string): Promise<RamPolicyVersion[]> {
    await this.#enter('listPolicyVersions', [name]);
    return this.#policy(name).versions.map((v) => ({ ...v }));
  }

  async setDefaultPolicyVersion(name: string, versionId: string): Promise<void> {
    await this.#enter('setDefaultPolicyVersion', [name, versionId]);
    const record = this.#policy(name);
    if (!record.versions.some((v) => v.versionId === versionId))
      throw cloudError('Terminal', 'EntityNotExist.Policy.Version');
    for (const v of record.versions) v.isDefault = v.versionId === versionId;
  }

  async deletePolicyVersion(name: string, versionId: string): Promise<void> {
    await this.#enter('deletePolicyVersion', [name, versionId]);
    const record = this.policies.get(name.toLowerCase());
    if (!record) return;
    if (record.versions.find((v) => v.versionId === versionId)?.isDefault)
      throw cloudError('Conflict', 'DeleteConflict.Policy.Version.Default');
    record.versions = record.versions.filter((v) => v.versionId !== versionId);
  }

  /** Refuses, as RAM does, while the policy is attached or has non-default versions. */
  async deletePolicy(name: string): Promise<void> {
    await this.#enter('deletePolicy', [name]);
    const record = this.policies.get(name.toLowerCase());
    if (!record) return;
    const lower = name.toLowerCase();
    const attached = [...this.roles.values()].some((r) =>
      r.attached.some((p) => p.type === 'Custom' && p.name.toLowerCase() === lower),
    );
    if (attached) throw cloudError('Conflict', 'DeleteConflict.Role.Policy');
    if (record.versions.length > 1) throw cloudError('Conflict', 'DeleteConflict.Policy.Version');
    this.policies.delete(lower);
  }

  async listPolicyTags(name: string): Promise<Record<string, string>> {
    await this.#enter('listPolicyTags', [name]);
    return { ...this.#policy(name).tags };
  }

  async listPoliciesTagged(tags: Record<string, string>): Promise<string[]> {
    await this.#enter('listPoliciesTagged', [tags]);
    return [...this.policies.entries()]
      .filter(([, p]) => Object.entries(tags).every(([k, v]) => p.tags[k] === v))
      .map(([name]) => name);
  }
}

/** Bindings as the apiserver would hold them: writes bump resourceVersion, deletion waits for finalizers. */
export class FakeBindingStore implements BindingStore {
  readonly objects = new Map<string, PodIdentityBinding>();
  readonly statusWrites: PodIdentityBindingStatus[] = [];
  before: BeforeHook | undefined;
  #version = 1;

  put(binding: PodIdentityBinding): PodIdentityBinding {
    const stored = structuredClone(binding);
    stored.metadata.resourceVersion = String(++this.#version);
    this.objects.set(`${stored.metadata.namespace}/${stored.metadata.name}`, stored);
    return stored;
  }

  async get(namespace: string, name: string): Promise<PodIdentityBinding | undefined> {
    await this.before?.('get', [namespace, name]);
    const found = this.objects.get(`${namespace}/${name}`);
    return found && structuredClone(found);
  }

  forServiceAccount(namespace: string, serviceAccountName: string): readonly PodIdentityBinding[] {
    return [...this.objects.values()].filter(
      (b) => b.metadata.namespace === namespace && b.spec.serviceAccountName === serviceAccountName,
    );
  }

  async patchStatus(binding: PodIdentityBinding, status: PodIdentityBindingStatus): Promise<void> {
    await this.before?.('patchStatus', [binding, status]);
    this.statusWrites.push(structuredClone(status));
    const current = this.#current(binding);
    this.put({ ...current, status: structuredClone(status) });
  }

  async addFinalizer(binding: PodIdentityBinding): Promise<void> {
    await this.before?.('addFinalizer', [binding]);
    const current = this.#current(binding);
    const finalizers = [...(current.metadata.finalizers ?? []), FINALIZER];
    this.put({ ...current, metadata: { ...current.metadata, finalizers } });
  }

  async removeFinalizer(binding: PodIdentityBinding): Promise<void> {
    await this.before?.('removeFinalizer', [binding]);
    const current = this.#current(binding);
    const finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    if (current.metadata.deletionTimestamp && finalizers.length === 0)
      this.objects.delete(`${current.metadata.namespace}/${current.metadata.name}`);
    else this.put({ ...current, metadata: { ...current.metadata, finalizers } });
  }

  markDeleted(namespace: string, name: string): void {
    const current = this.objects.get(`${namespace}/${name}`);
    if (!current) return;
    this.put({
      ...current,
      metadata: { ...current.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' },
    });
  }

  #current(binding: PodIdentityBinding): PodIdentityBinding {
    const key = `${binding.metadata.namespace}/${binding.metadata.name}`;
    const current = this.objects.get(key);
    if (!current) throw new Error(`binding ${key} not found`);
    return current;
  }
}

export class FakeServiceAccountStore implements ServiceAccountStore {
  readonly accounts = new Map<string, ServiceAccountState>();
  before: BeforeHook | undefined;
  /** Namespaces being deleted: create() answers as the apiserver's NamespaceTerminating does. */
  readonly terminating = new Set<string>();

  annotations(namespace: string, name: string): Record<string, string> | undefined {
    return this.accounts.get(`${namespace}/${name}`)?.annotations;
  }

  async get(namespace: string, name: string): Promise<ServiceAccountState | undefined> {
    await this.before?.('get', [namespace, name]);
    const found = this.accounts.get(`${namespace}/${name}`);
    return found && { annotations: { ...found.annotations } };
  }

  async patchAnnotations(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<void> {
    await this.before?.('patchAnnotations', [namespace, name, annotations]);
    const found = this.accounts.get(`${namespace}/${name}`);
    if (!found) throw new Error(`ServiceAccount ${namespace}/${name} not found`);
    for (const [key, value] of Object.entries(annotations)) {
      if (value === null) delete found.annotations[key];
      else found.annotations[key] = value;
    }
  }

  async create(
    namespace: string,
    name: string,
    annotations: Record<string, string>,
  ): Promise<void | 'namespace-terminating'> {
    await this.before?.('create', [namespace, name, annotations]);
    if (this.terminating.has(namespace)) return 'namespace-terminating';
    this.accounts.set(`${namespace}/${name}`, { annotations: { ...annotations } });
  }
}

export interface RecordedEvent {
  object: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
}

export class RecordingEvents implements EventSink {
  readonly events: RecordedEvent[] = [];
  record(object: InvolvedObject, type: EventType, reason: string, message: string): void {
    this.events.push({ object, type, reason, message });
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

let uid = 0;
export function bindingFixture(
  fields: {
    namespace?: string;
    name?: string;
    serviceAccountName?: string;
    role?: PodIdentityBinding['spec']['role'];
    deletionPolicy?: 'Delete' | 'Retain';
    createServiceAccount?: boolean;
    createdAt?: string;
    finalizer?: boolean;
  } = {},
): PodIdentityBinding {
  return {
    apiVersion: 'rrsa.dev/v1alpha1',
    kind: 'PodIdentityBinding',
    metadata: {
      namespace: fields.namespace ?? 'team-a',
      name: fields.name ?? 'app',
      uid: `uid-${++uid}`,
      generation: 1,
      creationTimestamp: fields.createdAt ?? '2026-01-01T00:00:00Z',
      finalizers: fields.finalizer === false ? [] : [FINALIZER],
    },
    spec: {
      serviceAccountName: fields.serviceAccountName ?? 'app-sa',
      ...(fields.role ? { role: fields.role } : {}),
      ...(fields.deletionPolicy ? { deletionPolicy: fields.deletionPolicy } : {}),
      ...(fields.createServiceAccount ? { createServiceAccount: true } : {}),
    },
  };
}

/** The cluster every reconciler unit test runs in. */
export const testCluster: ClusterIdentity = {
  clusterId: 'c1',
  accountId: '1234567890123456',
  oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1',
  issuerUrl: 'https://issuer.example',
  roleNamePrefix: 'rrsa-',
};

/**
 * A BindingReconciler over in-memory fakes of every port, at a fixed time unless `deps.now` says
 * otherwise; `deps` overrides any dependency (guardrails, clock, freshness window).
 */
export function reconcilerWorld(deps: Partial<ReconcilerDeps> = {}) {
  const ram = new FakeRam();
  const bindings = new FakeBindingStore();
  const serviceAccounts = new FakeServiceAccountStore();
  const events = new RecordingEvents();
  const reconciler = new BindingReconciler({
    cluster: testCluster,
    guardrails: DEFAULT_GUARDRAILS,
    ram,
    bindings,
    serviceAccounts,
    events,
    now: () => new Date('2026-06-01T00:00:00Z'),
    resyncMs: () => 600_000,
    ...deps,
  });
  return { ram, bindings, serviceAccounts, events, reconciler };
}
