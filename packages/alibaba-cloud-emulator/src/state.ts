import { oidcProviderNotFound, policyNotFound, roleNotFound } from './errors.ts';
import { type PolicyDocument, tryParsePolicyDocument } from './policy-document.ts';
import { findSystemPolicy, type SystemPolicy } from './system-policies.ts';

/**
 * The emulator's in-memory account: roles, custom policies, OIDC providers, RAM users, access
 * keys and issued STS sessions. RAM names are unique case-insensitively, so every map is keyed
 * by the lower-cased name while the record keeps the name as created.
 */

export type PolicyType = 'System' | 'Custom';

export interface Quotas {
  roles: number;
  systemPoliciesPerRole: number;
  customPoliciesPerRole: number;
  customPolicies: number;
  policyVersions: number;
  oidcProviders: number;
  clientIdsPerProvider: number;
  fingerprintsPerProvider: number;
  tagsPerResource: number;
  /** [unconfirmed]: Alibaba documents the error code but no number. */
  trustPolicyMaxLength: number;
}

/** The RAM limits page (reference §3) and the IMS CreateOIDCProvider doc comment. */
export const DEFAULT_QUOTAS: Quotas = {
  roles: 1000,
  systemPoliciesPerRole: 20,
  customPoliciesPerRole: 10,
  customPolicies: 1500,
  policyVersions: 5,
  oidcProviders: 100,
  clientIdsPerProvider: 50,
  fingerprintsPerProvider: 5,
  tagsPerResource: 20,
  trustPolicyMaxLength: 4096,
};

export interface AttachedPolicy {
  type: PolicyType;
  name: string;
  attachDate: string;
}

export interface RoleRecord {
  seq: number;
  roleId: string;
  roleName: string;
  description: string;
  /** Stored and returned verbatim (reference §7: no normalisation is known). */
  trustPolicy: string;
  maxSessionDuration: number;
  createDate: string;
  updateDate: string;
  tags: Map<string, string>;
  policies: AttachedPolicy[];
}

export interface PolicyVersionRecord {
  versionId: string;
  document: string;
  createDate: string;
}

export interface CustomPolicyRecord {
  seq: number;
  name: string;
  description: string;
  createDate: string;
  updateDate: string;
  versions: PolicyVersionRecord[];
  defaultVersion: string;
  nextVersion: number;
  tags: Map<string, string>;
}

export interface OidcProviderRecord {
  seq: number;
  name: string;
  issuerUrl: string;
  clientIds: string[];
  fingerprints: string[];
  issuanceLimitTime: number;
  description: string;
  createMs: number;
  updateMs: number;
}

export interface RamUserRecord {
  name: string;
  userId: string;
  accessKeyId: string;
  accessKeySecret: string;
  policies: AttachedPolicy[];
}

export interface StsSession {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  roleName: string;
  roleId: string;
  sessionName: string;
  issuedAt: number;
  expiresAt: number;
  /** The optional `Policy` parameter: permissions are intersected with it. */
  sessionPolicy: string | undefined;
  via: 'AssumeRoleWithOIDC' | 'AssumeRole';
  subject: string | undefined;
}

/** A policy as GetPolicy / ListPoliciesForRole describe it, System or Custom alike. */
export interface ResolvedPolicy {
  type: PolicyType;
  name: string;
  description: string;
  defaultVersion: string;
  document: string;
  createDate: string;
  updateDate: string;
}

function fromSystem(p: SystemPolicy): ResolvedPolicy {
  return {
    type: 'System',
    name: p.name,
    description: p.description,
    defaultVersion: p.defaultVersion,
    document: p.document,
    createDate: p.createDate,
    updateDate: p.updateDate,
  };
}

export function defaultVersionOf(policy: CustomPolicyRecord): PolicyVersionRecord {
  const found = policy.versions.find((v) => v.versionId === policy.defaultVersion);
  if (!found) throw new Error(`policy ${policy.name} lost its default version`);
  return found;
}

export class EmulatorState {
  readonly accountId: string;
  quotas: Quotas;
  readonly accountKeys = new Map<string, string>();
  readonly roles = new Map<string, RoleRecord>();
  readonly policies = new Map<string, CustomPolicyRecord>();
  readonly oidcProviders = new Map<string, OidcProviderRecord>();
  readonly users = new Map<string, RamUserRecord>();
  readonly sessions = new Map<string, StsSession>();
  private seq = 0;

  constructor(accountId: string, quotas: Quotas = DEFAULT_QUOTAS) {
    this.accountId = accountId;
    this.quotas = quotas;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  roleArn(roleName: string): string {
    return `acs:ram::${this.accountId}:role/${roleName}`;
  }

  oidcProviderArn(name: string): string {
    return `acs:ram::${this.accountId}:oidc-provider/${name}`;
  }

  findRole(name: string): RoleRecord | undefined {
    return this.roles.get(name.toLowerCase());
  }

  requireRole(name: string): RoleRecord {
    const role = this.findRole(name);
    if (!role) throw roleNotFound(name);
    return role;
  }

  findCustomPolicy(name: string): CustomPolicyRecord | undefined {
    return this.policies.get(name.toLowerCase());
  }

  requireCustomPolicy(name: string): CustomPolicyRecord {
    const policy = this.findCustomPolicy(name);
    if (!policy) throw policyNotFound(name);
    return policy;
  }

  requireOidcProvider(name: string): OidcProviderRecord {
    const provider = this.oidcProviders.get(name.toLowerCase());
    if (!provider) throw oidcProviderNotFound(name);
    return provider;
  }

  resolvePolicy(type: PolicyType, name: string): ResolvedPolicy | undefined {
    if (type === 'System') {
      const system = findSystemPolicy(name);
      return system ? fromSystem(system) : undefined;
    }
    const custom = this.findCustomPolicy(name);
    if (!custom) return undefined;
    return {
      type: 'Custom',
      name: custom.name,
      description: custom.description,
      defaultVersion: custom.defaultVersion,
      document: defaultVersionOf(custom).document,
      createDate: custom.createDate,
      updateDate: custom.updateDate,
    };
  }

  requirePolicy(type: PolicyType, name: string): ResolvedPolicy {
    const policy = this.resolvePolicy(type, name);
    if (!policy) throw policyNotFound(name);
    return policy;
  }

  /** The parsed default versions of attached policies (missing or broken ones are skipped). */
  documentsFor(attached: AttachedPolicy[]): PolicyDocument[] {
    return attached.flatMap((a) => {
      const policy = this.resolvePolicy(a.type, a.name);
      const parsed = policy ? tryParsePolicyDocument(policy.document, 'permission') : undefined;
      return parsed ? [parsed] : [];
    });
  }

  /** How many principals a policy is attached to (GetPolicy's AttachmentCount). */
  attachmentCount(type: PolicyType, name: string): number {
    const lower = name.toLowerCase();
    const holders = [...this.roles.values(), ...this.users.values()];
    return holders.filter((h) =>
      h.policies.some((p) => p.type === type && p.name.toLowerCase() === lower),
    ).length;
  }

  /** Forget every resource and user; the account keys stay (the owner re-seeds users). */
  clear(): void {
    this.roles.clear();
    this.policies.clear();
    this.oidcProviders.clear();
    this.sessions.clear();
    this.users.clear();
  }

  dump(): StateDump {
    const tags = (m: Map<string, string>): Record<string, string> => Object.fromEntries(m);
    return {
      accountId: this.accountId,
      roles: [...this.roles.values()].map((r) => ({
        roleName: r.roleName,
        roleId: r.roleId,
        arn: this.roleArn(r.roleName),
        description: r.description,
        trustPolicy: r.trustPolicy,
        maxSessionDuration: r.maxSessionDuration,
        createDate: r.createDate,
        updateDate: r.updateDate,
        tags: tags(r.tags),
        policies: r.policies.map((p) => ({ type: p.type, name: p.name })),
      })),
      policies: [...this.policies.values()].map((p) => ({
        name: p.name,
        description: p.description,
        defaultVersion: p.defaultVersion,
        versions: p.versions.map((v) => ({ versionId: v.versionId, document: v.document })),
        tags: tags(p.tags),
      })),
      oidcProviders: [...this.oidcProviders.values()].map((p) => ({
        name: p.name,
        arn: this.oidcProviderArn(p.name),
        issuerUrl: p.issuerUrl,
        clientIds: [...p.clientIds],
        fingerprints: [...p.fingerprints],
        issuanceLimitTime: p.issuanceLimitTime,
      })),
      users: [...this.users.values()].map((u) => ({
        name: u.name,
        accessKeyId: u.accessKeyId,
        policies: u.policies.map((p) => ({ type: p.type, name: p.name })),
      })),
      sessions: [...this.sessions.values()].map((s) => ({
        accessKeyId: s.accessKeyId,
        roleName: s.roleName,
        sessionName: s.sessionName,
        via: s.via,
        subject: s.subject,
        expiresAt: new Date(s.expiresAt).toISOString(),
      })),
    };
  }
}

export interface StateDump {
  accountId: string;
  roles: {
    roleName: string;
    roleId: string;
    arn: string;
    description: string;
    trustPolicy: string;
    maxSessionDuration: number;
    createDate: string;
    updateDate: string;
    tags: Record<string, string>;
    policies: { type: PolicyType; name: string }[];
  }[];
  policies: {
    name: string;
    description: string;
    defaultVersion: string;
    versions: { versionId: string; document: string }[];
    tags: Record<string, string>;
  }[];
  oidcProviders: {
    name: string;
    arn: string;
    issuerUrl: string;
    clientIds: string[];
    fingerprints: string[];
    issuanceLimitTime: number;
  }[];
  users: { name: string; accessKeyId: string; policies: { type: PolicyType; name: string }[] }[];
  sessions: {
    accessKeyId: string;
    roleName: string;
    sessionName: string;
    via: string;
    subject: string | undefined;
    expiresAt: string;
  }[];
}
