import type { PolicySpec } from '../api/types.ts';
import { DEFAULT_DENIED_ACTIONS } from './policy-grants.ts';

/** Cluster-wide limits on what a binding may ask for, checked before any cloud call. */
export interface Guardrails {
  /** `Type:Name` globs (`*` wildcard). Empty means every policy not denied. */
  allowedPolicies: string[];
  /** `Type:Name` globs; deny wins over allow. */
  deniedPolicies: string[];
  /**
   * `service:Action` globs no Custom policy's default version may grant (see policy-grants.ts);
   * judged from the document in RAM on every pass, so a later edit to the policy is caught too.
   */
  deniedActions: string[];
  /** Globs an explicit spec.role.name must match; `{namespace}` is the binding's namespace. */
  allowedRoleNames: string[];
  /** Whether bindings may adopt roles the operator did not create. */
  allowAdoption: boolean;
}

/**
 * Admin-level policies are denied unless the cluster admin removes them from the list:
 * AdministratorAccess, every `*FullAccess` system policy, and AliyunSTSAssumeRoleAccess (which
 * would let a pod assume any other role of the account).
 */
export const DEFAULT_DENIED_POLICIES = [
  'System:AdministratorAccess',
  'System:*FullAccess',
  'System:AliyunSTSAssumeRoleAccess',
];

export const DEFAULT_GUARDRAILS: Guardrails = {
  allowedPolicies: [],
  deniedPolicies: DEFAULT_DENIED_POLICIES,
  deniedActions: [...DEFAULT_DENIED_ACTIONS],
  allowedRoleNames: ['*'],
  allowAdoption: false,
};

export function globMatches(pattern: string, value: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i').test(value);
}

export interface GuardrailViolation {
  field: string;
  message: string;
}

export function checkPolicies(
  policies: readonly PolicySpec[],
  guardrails: Guardrails,
): GuardrailViolation[] {
  const violations: GuardrailViolation[] = [];
  for (const [index, policy] of policies.entries()) {
    const key = `${policy.type}:${policy.name}`;
    const denied = guardrails.deniedPolicies.find((p) => globMatches(p, key));
    const allowed =
      guardrails.allowedPolicies.length === 0 ||
      guardrails.allowedPolicies.some((p) => globMatches(p, key));
    if (denied)
      violations.push({
        field: `spec.role.policies[${index}]`,
        message: `policy ${key} is denied by the cluster guardrail "${denied}": use a narrower policy or ask the cluster admin`,
      });
    else if (!allowed)
      violations.push({
        field: `spec.role.policies[${index}]`,
        message: `policy ${key} is not in the cluster's allowed policies (${guardrails.allowedPolicies.join(', ')})`,
      });
  }
  return violations;
}

/** Where an explicit role name is judged: the binding's namespace and the operator's name space. */
export interface RoleNameContext {
  namespace: string;
  /** The operator's prefix for derived names (`rrsa-`): names under it are the operator's. */
  prefix: string;
  /** This binding's own derived name (the only name under the prefix it may spell out). */
  derivedName: string;
}

/**
 * An explicit spec.role.name must (1) stay out of the operator's derived-name space, or any
 * tenant could claim the predictable default name of another tenant's future binding first; and
 * (2) match an allowed pattern, where `{namespace}` stands for the binding's namespace, so an
 * admin can give every tenant its own name space (`{namespace}-*`).
 */
export function checkRoleName(
  name: string | undefined,
  guardrails: Guardrails,
  context: RoleNameContext,
): GuardrailViolation[] {
  if (name === undefined) return [];
  const lower = name.toLowerCase();
  if (
    context.prefix !== '' &&
    lower.startsWith(context.prefix.toLowerCase()) &&
    lower !== context.derivedName.toLowerCase()
  )
    return [
      {
        field: 'spec.role.name',
        message: `role names starting with "${context.prefix}" are reserved for the names the operator derives: remove spec.role.name to use this binding's own (${context.derivedName}), or choose a name without that prefix`,
      },
    ];
  const patterns = guardrails.allowedRoleNames.map((p) =>
    p.replaceAll('{namespace}', context.namespace),
  );
  if (patterns.some((p) => globMatches(p, name))) return [];
  return [
    {
      field: 'spec.role.name',
      message: `role name ${name} does not match the cluster's allowed role names (${patterns.join(', ')})`,
    },
  ];
}

export function checkAdoption(
  adopt: boolean | undefined,
  guardrails: Guardrails,
): GuardrailViolation[] {
  if (!adopt || guardrails.allowAdoption) return [];
  return [
    {
      field: 'spec.role.adopt',
      message:
        'this cluster does not allow adopting existing RAM roles: remove spec.role.adopt and use a new role name, or ask the cluster admin to enable adoption',
    },
  ];
}
