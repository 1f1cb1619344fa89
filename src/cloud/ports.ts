/**
 * What the controller needs from Alibaba Cloud, independent of any SDK. Adapters in this folder
 * implement these over the @alicloud SDKs; every method throws only CloudError.
 */
export type PolicyType = 'System' | 'Custom';

export interface PolicyRef {
  type: PolicyType;
  name: string;
}

export interface RamRole {
  name: string;
  arn: string;
  roleId: string;
  trustPolicy: string;
  description: string;
  maxSessionDuration: number;
}

export interface CreateRoleInput {
  name: string;
  trustPolicy: string;
  description?: string | undefined;
  maxSessionDuration?: number | undefined;
  tags: Record<string, string>;
}

export interface UpdateRoleInput {
  trustPolicy?: string | undefined;
  description?: string | undefined;
  maxSessionDuration?: number | undefined;
}

/** A Custom policy and the document of its default version. */
export interface RamPolicy {
  name: string;
  defaultVersion: string;
  document: string;
}

export interface RamPolicyVersion {
  versionId: string;
  isDefault: boolean;
  document: string;
}

export interface CreatePolicyInput {
  name: string;
  document: string;
  description: string;
  tags: Record<string, string>;
}

/** The Custom-policy calls inline policies need (docs/adr/0011-inline-policies.md). */
export interface RamPolicyPort {
  /** undefined when no Custom policy of that name exists. */
  getCustomPolicy(name: string): Promise<RamPolicy | undefined>;
  createPolicy(input: CreatePolicyInput): Promise<RamPolicy>;
  /** Creates a version and makes it the default. */
  createPolicyVersion(name: string, document: string): Promise<RamPolicyVersion>;
  listPolicyVersions(name: string): Promise<RamPolicyVersion[]>;
  setDefaultPolicyVersion(name: string, versionId: string): Promise<void>;
  /** Succeeds when the version is already gone. */
  deletePolicyVersion(name: string, versionId: string): Promise<void>;
  /** Succeeds when the policy is already gone. */
  deletePolicy(name: string): Promise<void>;
  listPolicyTags(name: string): Promise<Record<string, string>>;
  /** Names of the Custom policies carrying every one of these tags. */
  listPoliciesTagged(tags: Record<string, string>): Promise<string[]>;
}

export interface RamPort extends RamPolicyPort {
  /** undefined when the role does not exist. */
  getRole(name: string): Promise<RamRole | undefined>;
  createRole(input: CreateRoleInput): Promise<RamRole>;
  updateRole(name: string, input: UpdateRoleInput): Promise<RamRole>;
  /** Succeeds when the role is already gone. */
  deleteRole(name: string): Promise<void>;
  listPoliciesForRole(roleName: string): Promise<PolicyRef[]>;
  /** Succeeds when the policy is already attached. */
  attachPolicy(roleName: string, policy: PolicyRef): Promise<void>;
  /** Succeeds when the policy is not attached. */
  detachPolicy(roleName: string, policy: PolicyRef): Promise<void>;
  /**
   * The document of the policy's default version; undefined when the policy does not exist.
   * An empty string is a policy RAM returned no document for (judged unjudgeable, so refused).
   */
  getPolicyDocument(policy: PolicyRef): Promise<string | undefined>;
  listRoleTags(roleName: string): Promise<Record<string, string>>;
  tagRole(roleName: string, tags: Record<string, string>): Promise<void>;
  /** Removes tag keys; keys that are not set are ignored. */
  untagRole(roleName: string, keys: readonly string[]): Promise<void>;
}

export interface CallerIdentity {
  accountId: string;
  arn: string;
  identityType: string;
}

export interface AssumeRoleInput {
  roleArn: string;
  sessionName: string;
  externalId?: string | undefined;
  durationSeconds: number;
}

/** Temporary credentials STS issued (AssumeRole). */
export interface SessionCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  expiration: Date;
}

export interface StsPort {
  getCallerIdentity(): Promise<CallerIdentity>;
  /** Optional so older fakes still fit; the multi-account path requires it. */
  assumeRole?(input: AssumeRoleInput): Promise<SessionCredentials>;
}

export interface OidcProvider {
  name: string;
  arn: string;
  issuerUrl: string;
  clientIds: string[];
  fingerprints?: string[] | undefined;
}

export interface CreateOidcProviderInput {
  name: string;
  issuerUrl: string;
  clientIds: string[];
  fingerprints: string[];
  description: string;
}

export interface ImsPort {
  /** undefined when no provider of that name exists. */
  getOidcProvider(name: string): Promise<OidcProvider | undefined>;
  /** Optional so older fakes still fit; the multi-account path requires it. */
  createOidcProvider?(input: CreateOidcProviderInput): Promise<OidcProvider>;
}

/** Which RAM actions change state: the steady-state resync must make none of them. */
export const RAM_WRITE_ACTIONS = new Set([
  'CreateRole',
  'UpdateRole',
  'DeleteRole',
  'AttachPolicyToRole',
  'DetachPolicyFromRole',
  'TagResources',
  'UntagResources',
  'CreatePolicy',
  'CreatePolicyVersion',
  'SetDefaultPolicyVersion',
  'DeletePolicyVersion',
  'DeletePolicy',
]);
