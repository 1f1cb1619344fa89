/**
 * The single source of truth for the PodIdentityBinding schema: `hack/gen-crds.ts` renders it into
 * crds/ (CI fails when that file is stale) and validate.ts compiles the spec part with ajv, so the
 * apiserver and the controller can never disagree about what a valid spec is.
 */

export type JsonSchema = { [keyword: string]: unknown };

/** RAM: RoleName 1..64 of [A-Za-z0-9.-] (reference/alibaba-cloud-api.md). */
export const ROLE_NAME_PATTERN = '^[A-Za-z0-9.-]{1,64}$';
/** RAM policy names: letters, digits and hyphens, up to 128 characters. */
export const POLICY_NAME_PATTERN = '^[A-Za-z0-9-]{1,128}$';
/** A DNS-1123 subdomain, as Kubernetes requires of ServiceAccount names. */
export const DNS_SUBDOMAIN_PATTERN =
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export const MIN_SESSION_DURATION = 3600;
export const MAX_SESSION_DURATION = 43200;
export const MIN_TOKEN_EXPIRATION = 600;
export const MAX_TOKEN_EXPIRATION = 43200;
export const MAX_POLICIES = 20;
/** RAM attaches at most 10 Custom policies to a role; inline policies are Custom policies. */
export const MAX_CUSTOM_POLICIES_PER_ROLE = 10;

const inlinePolicySchema: JsonSchema = {
  type: 'object',
  description:
    'A permission policy kept in Git: the operator owns one Custom RAM policy for it and attaches it to the role.',
  required: ['name', 'document'],
  properties: {
    name: {
      type: 'string',
      pattern: POLICY_NAME_PATTERN,
      maxLength: 128,
      description:
        'Entry name (A-Z a-z 0-9 -), unique in the binding; part of the RAM policy name, which is shown in status.inlinePolicies.',
    },
    document: {
      type: 'object',
      description:
        'The RAM policy document as YAML: Version "1" and Statement (Effect, Action or NotAction, Resource or NotResource, Condition); at most 6144 characters as compact JSON.',
      required: ['Version', 'Statement'],
      properties: {
        Version: { type: 'string', enum: ['1'] },
        Statement: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

const policySchema: JsonSchema = {
  type: 'object',
  description: 'A RAM policy to attach to the role.',
  required: ['type', 'name'],
  properties: {
    type: {
      type: 'string',
      enum: ['System', 'Custom'],
      description: 'System for Alibaba Cloud managed policies, Custom for policies of the account.',
    },
    name: {
      type: 'string',
      pattern: POLICY_NAME_PATTERN,
      maxLength: 128,
      description: 'Policy name, for example AliyunOSSReadOnlyAccess.',
    },
  },
  additionalProperties: false,
};

const roleSchema: JsonSchema = {
  type: 'object',
  description: 'The RAM role pods of the ServiceAccount assume.',
  properties: {
    name: {
      type: 'string',
      pattern: ROLE_NAME_PATTERN,
      maxLength: 64,
      description:
        'RAM role name (1-64 of A-Z a-z 0-9 . -). Default: derived from the namespace, the ServiceAccount and a hash of the cluster id. Cannot change after creation.',
    },
    description: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description: 'Role description shown in the RAM console.',
    },
    maxSessionDuration: {
      type: 'integer',
      minimum: MIN_SESSION_DURATION,
      maximum: MAX_SESSION_DURATION,
      description: 'Longest STS session, in seconds (3600-43200). Default 3600.',
    },
    policies: {
      type: 'array',
      maxItems: MAX_POLICIES,
      description:
        'Policies attached to the role; the cluster guardrails decide which are allowed.',
      items: policySchema,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type', 'name'],
    },
    inlinePolicies: {
      type: 'array',
      maxItems: MAX_CUSTOM_POLICIES_PER_ROLE,
      description:
        'Permission policies written here; each becomes a Custom RAM policy owned by the operator, checked by the same guardrails as Custom policies.',
      items: inlinePolicySchema,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    },
    adopt: {
      type: 'boolean',
      description:
        "Manage a RAM role that already exists and was not created by this operator. Only the binding's own trust statement and the policies it lists are ever changed; the role is never deleted. Needs role.name and a cluster that allows adoption.",
    },
  },
  additionalProperties: false,
  'x-kubernetes-validations': [
    {
      rule: '!has(self.adopt) || !self.adopt || has(self.name)',
      message: 'role.adopt needs role.name: name the existing RAM role to adopt',
    },
  ],
};

export const specSchema: JsonSchema = {
  type: 'object',
  description: 'Which ServiceAccount may assume which RAM role, and with which policies.',
  required: ['serviceAccountName'],
  properties: {
    serviceAccountName: {
      type: 'string',
      minLength: 1,
      maxLength: 253,
      pattern: DNS_SUBDOMAIN_PATTERN,
      description:
        'ServiceAccount in this namespace whose pods get the role. Immutable: create a new binding for another ServiceAccount.',
      'x-kubernetes-validations': [
        {
          rule: 'self == oldSelf',
          message:
            'serviceAccountName is immutable: create a new PodIdentityBinding for another ServiceAccount',
        },
      ],
    },
    createServiceAccount: {
      type: 'boolean',
      description: 'Create the ServiceAccount if it does not exist (it is never deleted).',
    },
    role: roleSchema,
    tokenExpirationSeconds: {
      type: 'integer',
      minimum: MIN_TOKEN_EXPIRATION,
      maximum: MAX_TOKEN_EXPIRATION,
      description:
        'Lifetime of the projected OIDC token the webhook mounts (600-43200 s); written to the ServiceAccount annotation pod-identity.alibabacloud.com/service-account-token-expiration.',
    },
    deletionPolicy: {
      type: 'string',
      enum: ['Delete', 'Retain'],
      default: 'Delete',
      description:
        'Delete: deleting the binding deletes a role the operator created (an adopted role only loses its statement and policies). Retain: the role is kept.',
    },
    restartStalePods: {
      type: 'boolean',
      description:
        'Rollout-restart the Deployment, StatefulSet or DaemonSet of pods running with a stale identity (once per identity change), when the operator runs with --allow-pod-restart. Bare pods are only reported.',
    },
  },
  additionalProperties: false,
  'x-kubernetes-validations': [
    {
      rule: "(has(oldSelf.role) && has(oldSelf.role.name) ? oldSelf.role.name : '') == (has(self.role) && has(self.role.name) ? self.role.name : '')",
      message:
        'role.name cannot be added, changed or removed after creation: create a new PodIdentityBinding for another role',
    },
  ],
};

const conditionSchema: JsonSchema = {
  type: 'object',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: {
      type: 'string',
      maxLength: 316,
      description:
        'Ready (the role is usable), Reconciling (work in progress) or Stalled (needs a change).',
    },
    status: {
      type: 'string',
      enum: ['True', 'False', 'Unknown'],
      description: 'True, False or Unknown.',
    },
    observedGeneration: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description: 'The metadata.generation this condition was computed for.',
    },
    lastTransitionTime: {
      type: 'string',
      format: 'date-time',
      description: 'When status last changed.',
    },
    reason: {
      type: 'string',
      maxLength: 1024,
      description: 'A CamelCase reason, for example GuardrailViolation (README "Troubleshooting").',
    },
    message: {
      type: 'string',
      maxLength: 32768,
      description: 'What happened and, when something is wrong, the field to change and how.',
    },
  },
};

export const statusSchema: JsonSchema = {
  type: 'object',
  description: 'What the operator observed and did.',
  // The apiserver defaults it on every read until the operator writes status: a binding it has
  // not seen yet reads observedGeneration 0 < generation, which kstatus (Flux's wait and
  // healthChecks, kubectl wait --for=jsonpath) takes as in progress, not as Current for lack of
  // conditions. See docs/adr/0015.
  default: { observedGeneration: 0 },
  properties: {
    observedGeneration: {
      type: 'integer',
      format: 'int64',
      description: 'The metadata.generation the operator last acted on.',
    },
    conditions: {
      type: 'array',
      description:
        'Ready, Reconciling and Stalled (kstatus conventions: Argo CD and Flux read them).',
      items: conditionSchema,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
    roleName: { type: 'string', description: 'The RAM role the pods assume.' },
    accountId: {
      type: 'string',
      description:
        "The Alibaba Cloud account the role lives in: the cluster's own, or the one an AccountMapping assigns to this namespace.",
    },
    roleArn: {
      type: 'string',
      description: 'Its ARN, as the webhook injects it (ALIBABA_CLOUD_ROLE_ARN).',
    },
    oidcProviderArn: {
      type: 'string',
      description: "The cluster's OIDC provider the role trusts (ALIBABA_CLOUD_OIDC_PROVIDER_ARN).",
    },
    roleOwnership: {
      type: 'string',
      enum: ['Created', 'Adopted'],
      description:
        'Created: the operator made the role and deletes it per deletionPolicy. Adopted: it existed; only what the operator added is removed.',
    },
    attachedPolicies: {
      type: 'array',
      items: policySchema,
      description: 'The spec policies attached to the role by this binding.',
    },
    inlinePolicies: {
      type: 'array',
      description: 'The Custom RAM policies the operator owns for spec.role.inlinePolicies.',
      items: {
        type: 'object',
        required: ['name', 'policyName'],
        properties: {
          name: { type: 'string', description: 'The spec.role.inlinePolicies entry.' },
          policyName: { type: 'string', description: 'The Custom RAM policy.' },
          defaultVersion: { type: 'string', description: 'Its default version, for example v2.' },
        },
      },
    },
    pods: {
      type: 'object',
      description:
        'Pods running as the ServiceAccount: current carry what the webhook injects now, stale do not (condition PodsCurrent names them).',
      required: ['total', 'current', 'stale'],
      properties: {
        total: { type: 'integer', minimum: 0, description: 'Running or pending pods.' },
        current: { type: 'integer', minimum: 0, description: 'Pods with the current identity.' },
        stale: {
          type: 'integer',
          minimum: 0,
          description: 'Pods without it: created before the wiring, or with another role.',
        },
      },
    },
  },
};

export const bindingSchema: JsonSchema = {
  type: 'object',
  description:
    'PodIdentityBinding lets the pods of one ServiceAccount assume an Alibaba Cloud RAM role through RRSA.',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
};
