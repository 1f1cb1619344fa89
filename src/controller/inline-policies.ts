import type { InlinePolicyStatus, PodIdentityBinding, PolicyDocumentSpec } from '../api/types.ts';
import type { PolicyRef, RamPolicy, RamPort } from '../cloud/ports.ts';
import type { GuardrailViolation } from '../identity/guardrails.ts';
import {
  inlinePolicyName,
  planPolicyVersion,
  samePolicyDocument,
  serializePolicyDocument,
} from '../identity/inline-policy.ts';
import { judgePolicyDocument } from '../identity/policy-grants.ts';
import { classifyRoleOwnership, ownershipTags, type BindingIdentity } from './ownership.ts';
import type { ClusterIdentity } from './types.ts';

/**
 * spec.role.inlinePolicies as Custom RAM policies the binding owns (docs/adr/0011-inline-policies.md):
 * gather (reads) -> decide (pure) -> apply (writes, each counted by `wrote`). Ownership is proved
 * by the same tags as roles; a policy of that name without them is never touched.
 */

export interface DesiredInline {
  entry: string;
  policyName: string;
  document: PolicyDocumentSpec;
  text: string;
}

export function bindingIdentity(
  binding: PodIdentityBinding,
  cluster: ClusterIdentity,
): BindingIdentity {
  return {
    clusterId: cluster.clusterId,
    namespace: binding.metadata.namespace,
    name: binding.metadata.name,
  };
}

export function desiredInlinePolicies(
  binding: PodIdentityBinding,
  cluster: ClusterIdentity,
): DesiredInline[] {
  return (binding.spec.role?.inlinePolicies ?? []).map((entry) => ({
    entry: entry.name,
    policyName: inlinePolicyName(
      cluster.roleNamePrefix,
      cluster.clusterId,
      binding.metadata.namespace,
      binding.metadata.name,
      entry.name,
    ),
    document: entry.document,
    text: serializePolicyDocument(entry.document),
  }));
}

export function inlineRefs(desired: readonly DesiredInline[]): PolicyRef[] {
  return desired.map((d) => ({ type: 'Custom', name: d.policyName }));
}

/** The grant-based guardrail (ADR 0008) on each inline document; pure, so it runs before any read. */
export function inlineGrantViolations(
  desired: readonly DesiredInline[],
  deniedActions: readonly string[],
): GuardrailViolation[] {
  const fix = 'use a narrower document or ask the cluster admin';
  return desired.flatMap((d, index) => {
    const field = `spec.role.inlinePolicies[${index}]`;
    const judgement = judgePolicyDocument(d.text, deniedActions);
    if (judgement.kind === 'unjudgeable')
      return [
        {
          field,
          message: `inline policy ${d.entry} cannot be judged (${judgement.reason}): ${fix}`,
        },
      ];
    const first = judgement.grants[0];
    if (!first) return [];
    const more = judgement.grants.length > 1 ? ` (and ${judgement.grants.length - 1} more)` : '';
    return [
      {
        field,
        message: `inline policy ${d.entry} grants ${first.action} in Statement[${first.statementIndex}], which covers the privileged action ${first.deniedBy} (cluster guardrail --denied-actions)${more}: ${fix}`,
      },
    ];
  });
}

export interface ObservedInline {
  desired: DesiredInline;
  policy: RamPolicy | undefined;
  tags: Record<string, string>;
}

export async function gatherInline(
  ram: RamPort,
  desired: readonly DesiredInline[],
): Promise<ObservedInline[]> {
  const observed: ObservedInline[] = [];
  for (const d of desired) {
    const policy = await ram.getCustomPolicy(d.policyName);
    const tags = policy ? await ram.listPolicyTags(d.policyName) : {};
    observed.push({ desired: d, policy, tags });
  }
  return observed;
}

export type InlineStep =
  | { kind: 'create'; desired: DesiredInline }
  | { kind: 'update'; desired: DesiredInline }
  | { kind: 'keep'; desired: DesiredInline; defaultVersion: string };

export type InlineDecision =
  { kind: 'blocked'; reason: string; message: string } | { kind: 'act'; steps: InlineStep[] };

/** Pure: what each entry needs, or why nothing may be written (a policy we cannot prove ours). */
export function decideInline(
  observed: readonly ObservedInline[],
  id: BindingIdentity,
): InlineDecision {
  const steps: InlineStep[] = [];
  for (const o of observed) {
    if (!o.policy) {
      steps.push({ kind: 'create', desired: o.desired });
      continue;
    }
    if (classifyRoleOwnership(o.tags, id).kind !== 'ours')
      return {
        kind: 'blocked',
        reason: 'InlinePolicyNotOwned',
        message: `Custom policy ${o.desired.policyName} (for inline policy ${o.desired.entry}) exists in RAM and is not tagged as this binding's; it was left untouched: delete or rename it in RAM, or rename the inline entry`,
      };
    if (samePolicyDocument(o.policy.document, o.desired.document))
      steps.push({ kind: 'keep', desired: o.desired, defaultVersion: o.policy.defaultVersion });
    else steps.push({ kind: 'update', desired: o.desired });
  }
  return { kind: 'act', steps };
}

/** Carries out the steps; returns what status reports. `wrote` runs after every RAM write. */
export async function applyInline(
  ram: RamPort,
  steps: readonly InlineStep[],
  binding: PodIdentityBinding,
  id: BindingIdentity,
  wrote: (what: string) => void,
): Promise<InlinePolicyStatus[]> {
  const status: InlinePolicyStatus[] = [];
  for (const step of steps) {
    const { desired } = step;
    let defaultVersion: string;
    if (step.kind === 'keep') defaultVersion = step.defaultVersion;
    else if (step.kind === 'create') {
      const created = await ram.createPolicy({
        name: desired.policyName,
        document: desired.text,
        description: `Managed by rrsa-operator: inline policy ${desired.entry} of PodIdentityBinding ${binding.metadata.namespace}/${binding.metadata.name}`,
        tags: ownershipTags(id),
      });
      wrote(`created Custom policy ${desired.policyName}`);
      defaultVersion = created.defaultVersion;
    } else defaultVersion = await updateVersion(ram, desired, wrote);
    status.push({ name: desired.entry, policyName: desired.policyName, defaultVersion });
  }
  return status;
}

async function updateVersion(
  ram: RamPort,
  desired: DesiredInline,
  wrote: (what: string) => void,
): Promise<string> {
  const versions = await ram.listPolicyVersions(desired.policyName);
  const plan = planPolicyVersion(versions, desired.document);
  if (plan.kind === 'unchanged') return versions.find((v) => v.isDefault)?.versionId ?? '';
  if (plan.kind === 'set-default') {
    await ram.setDefaultPolicyVersion(desired.policyName, plan.versionId);
    wrote(`restored version ${plan.versionId} of ${desired.policyName} as its default`);
    return plan.versionId;
  }
  for (const versionId of plan.prune) {
    await ram.deletePolicyVersion(desired.policyName, versionId);
    wrote(`deleted old version ${versionId} of ${desired.policyName}`);
  }
  const created = await ram.createPolicyVersion(desired.policyName, desired.text);
  wrote(`created version ${created.versionId} of ${desired.policyName} as its default`);
  return created.versionId;
}

/**
 * Deletes the Custom policies this binding owns (listed by its tags, each re-checked) except
 * `keep`: non-default versions first, then the policy, as RAM requires. The caller has detached
 * them from the binding's role; a policy someone attached elsewhere makes DeletePolicy fail with
 * a DeleteConflict, retried like any conflict.
 */
export async function deleteOwnedInline(
  ram: RamPort,
  id: BindingIdentity,
  keep: readonly string[],
  wrote: (what: string) => void,
): Promise<void> {
  const kept = new Set(keep.map((n) => n.toLowerCase()));
  for (const name of await ram.listPoliciesTagged(ownershipTags(id))) {
    if (kept.has(name.toLowerCase())) continue;
    if (classifyRoleOwnership(await ram.listPolicyTags(name), id).kind !== 'ours') continue;
    for (const v of await ram.listPolicyVersions(name))
      if (!v.isDefault) {
        await ram.deletePolicyVersion(name, v.versionId);
        wrote(`deleted version ${v.versionId} of ${name}`);
      }
    await ram.deletePolicy(name);
    wrote(`deleted Custom policy ${name}`);
  }
}
