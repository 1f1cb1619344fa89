/** The PodIdentityBinding API (rrsa.dev/v1alpha1). The JSON Schema in schema.ts is the contract. */

export const GROUP = 'rrsa.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'PodIdentityBinding';
export const PLURAL = 'podidentitybindings';
export const SINGULAR = 'podidentitybinding';
export const SHORT_NAME = 'pib';

export type PolicyType = 'System' | 'Custom';
export type DeletionPolicy = 'Delete' | 'Retain';

export interface PolicySpec {
  type: PolicyType;
  name: string;
}

/** A RAM policy document as structured YAML (validated by identity/inline-policy.ts). */
export interface PolicyDocumentSpec {
  Version: string;
  Statement: Record<string, unknown>[];
}

export interface InlinePolicySpec {
  name: string;
  document: PolicyDocumentSpec;
}

export interface RoleSpec {
  name?: string;
  description?: string;
  maxSessionDuration?: number;
  policies?: PolicySpec[];
  inlinePolicies?: InlinePolicySpec[];
  adopt?: boolean;
}

export interface PodIdentityBindingSpec {
  serviceAccountName: string;
  createServiceAccount?: boolean;
  role?: RoleSpec;
  tokenExpirationSeconds?: number;
  deletionPolicy?: DeletionPolicy;
  /** Rollout-restart workloads of stale pods (needs the manager's --allow-pod-restart too). */
  restartStalePods?: boolean;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type RoleOwnershipMode = 'Created' | 'Adopted';

export interface PodIdentityBindingStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  roleName?: string;
  roleArn?: string;
  /** The account the role lives in (AccountMapping, docs/adr/0014-roles-in-other-accounts.md). */
  accountId?: string;
  oidcProviderArn?: string;
  /** Created: the operator made the role and will delete it; Adopted: it only adds its statement. */
  roleOwnership?: RoleOwnershipMode;
  attachedPolicies?: PolicySpec[];
  inlinePolicies?: InlinePolicyStatus[];
  pods?: PodCounts;
}

/** Pods of the ServiceAccount: whether they carry what the webhook would inject now. */
export interface PodCounts {
  total: number;
  current: number;
  stale: number;
}

export interface InlinePolicyStatus {
  name: string;
  policyName: string;
  defaultVersion?: string;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PodIdentityBinding {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: PodIdentityBindingSpec;
  status?: PodIdentityBindingStatus;
}

export const FINALIZER = 'rrsa.dev/finalizer';

/** Condition types. Ready is the summary; Reconciling/Stalled follow kstatus' abnormal-true rule. */
export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  RoleReady: 'RoleReady',
  TrustPolicyReady: 'TrustPolicyReady',
  PoliciesReady: 'PoliciesReady',
  ServiceAccountReady: 'ServiceAccountReady',
  /** Not part of Ready: pods created before the wiring keep running without it. */
  PodsCurrent: 'PodsCurrent',
} as const;

/** Annotations the webhook (and ack-pod-identity-webhook) read from the ServiceAccount. */
export const ANNOTATION_ROLE_NAME = 'pod-identity.alibabacloud.com/role-name';
export const ANNOTATION_TOKEN_EXPIRATION =
  'pod-identity.alibabacloud.com/service-account-token-expiration';
