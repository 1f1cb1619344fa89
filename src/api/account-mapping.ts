import { GROUP, VERSION } from './types.ts';
import type { JsonSchema } from './schema.ts';

/**
 * AccountMapping (rrsa.dev/v1alpha1, cluster-scoped): which namespaces' bindings get their RAM
 * role in another Alibaba Cloud account, and how the operator reaches that account. Owned by the
 * cluster admin (tenants' aggregated roles do not include it), so a tenant can never choose the
 * account its roles land in (docs/adr/0014-roles-in-other-accounts.md).
 */
export const ACCOUNT_MAPPING_KIND = 'AccountMapping';
export const ACCOUNT_MAPPING_PLURAL = 'accountmappings';
export const ACCOUNT_MAPPING_SINGULAR = 'accountmapping';

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface AccountMappingSpec {
  /** The Alibaba Cloud account (uid) the mapped namespaces' roles live in. */
  accountId: string;
  /** The role the operator assumes in that account (sts:AssumeRole from its own identity). */
  managementRoleName: string;
  /** Sent as ExternalId on AssumeRole, for a trust policy with an sts:ExternalId condition. */
  externalId?: string;
  /** Use (and only verify) this existing OIDC provider instead of ensuring ack-rrsa-<clusterId>. */
  oidcProviderName?: string;
  /** Namespaces by name. */
  namespaces?: string[];
  /** Namespaces by label. */
  namespaceSelector?: LabelSelector;
}

export interface AccountMapping {
  apiVersion: `${typeof GROUP}/${typeof VERSION}`;
  kind: typeof ACCOUNT_MAPPING_KIND;
  metadata: { name: string; resourceVersion?: string; generation?: number };
  spec: AccountMappingSpec;
}

const selectorSchema: JsonSchema = {
  type: 'object',
  description: 'Namespaces whose labels match (metav1.LabelSelector).',
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string' },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

export const accountMappingSpecSchema: JsonSchema = {
  type: 'object',
  required: ['accountId', 'managementRoleName'],
  properties: {
    accountId: {
      type: 'string',
      pattern: '^[0-9]{1,32}$',
      description:
        'The Alibaba Cloud account id (uid) that holds the roles of the mapped namespaces.',
    },
    managementRoleName: {
      type: 'string',
      pattern: '^[A-Za-z0-9.-]{1,64}$',
      description:
        "The RAM role in that account the operator assumes (sts:AssumeRole from its own credentials); its trust policy must name the operator's role or account.",
    },
    externalId: {
      type: 'string',
      minLength: 2,
      maxLength: 1224,
      description:
        'Sent as ExternalId, for a management role whose trust policy requires sts:ExternalId.',
    },
    oidcProviderName: {
      type: 'string',
      pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$',
      description:
        "An existing OIDC provider in that account for this cluster's issuer, which the operator only verifies; absent, the operator ensures ack-rrsa-<clusterId> itself.",
    },
    namespaces: {
      type: 'array',
      items: { type: 'string' },
      description: 'Namespaces mapped by name.',
    },
    namespaceSelector: selectorSchema,
  },
  anyOf: [{ required: ['namespaces'] }, { required: ['namespaceSelector'] }],
};

export function accountMappingCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${ACCOUNT_MAPPING_PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: ACCOUNT_MAPPING_KIND,
        listKind: `${ACCOUNT_MAPPING_KIND}List`,
        plural: ACCOUNT_MAPPING_PLURAL,
        singular: ACCOUNT_MAPPING_SINGULAR,
        categories: ['rrsa', 'alibabacloud'],
      },
      scope: 'Cluster',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: [
            { name: 'Account', type: 'string', jsonPath: '.spec.accountId' },
            { name: 'Management Role', type: 'string', jsonPath: '.spec.managementRoleName' },
            { name: 'Namespaces', type: 'string', jsonPath: '.spec.namespaces' },
            { name: 'Selector', type: 'string', jsonPath: '.spec.namespaceSelector', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'AccountMapping puts the RAM roles of the PodIdentityBindings in some namespaces into another Alibaba Cloud account. Cluster-scoped and admin-owned: tenants cannot choose the account.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: accountMappingSpecSchema,
              },
            },
          },
        },
      ],
    },
  };
}
