import { GROUP, KIND, PLURAL, SHORT_NAME, SINGULAR, VERSION } from './types.ts';
import { bindingSchema } from './schema.ts';

const readyCondition = '.status.conditions[?(@.type=="Ready")]';

/** The CustomResourceDefinition object rendered into crds/ by hack/gen-crds.ts. */
export function podIdentityBindingCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [SHORT_NAME],
        categories: ['rrsa', 'alibabacloud'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'ServiceAccount', type: 'string', jsonPath: '.spec.serviceAccountName' },
            { name: 'Role', type: 'string', jsonPath: '.status.roleName' },
            { name: 'Ready', type: 'string', jsonPath: `${readyCondition}.status` },
            { name: 'Reason', type: 'string', jsonPath: `${readyCondition}.reason` },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            { name: 'Role ARN', type: 'string', jsonPath: '.status.roleArn', priority: 1 },
            { name: 'Account', type: 'string', jsonPath: '.status.accountId', priority: 1 },
            {
              name: 'Inline Policies',
              type: 'string',
              jsonPath: '.status.inlinePolicies[*].policyName',
              priority: 1,
            },
            { name: 'Stale Pods', type: 'integer', jsonPath: '.status.pods.stale', priority: 1 },
            { name: 'Message', type: 'string', jsonPath: `${readyCondition}.message`, priority: 1 },
          ],
          schema: { openAPIV3Schema: structural(bindingSchema) },
        },
      ],
    },
  };
}

/**
 * Kubernetes structural schemas forbid `additionalProperties` next to `properties`: the apiserver
 * prunes unknown fields instead (and `kubectl apply` warns or fails under strict field
 * validation). ajv keeps the keyword so the controller names the unknown field in its message.
 */
function structural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(structural);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    const inProperties = 'properties' in schema && key === 'additionalProperties';
    if (!inProperties) out[key] = structural(value);
  }
  return out;
}
