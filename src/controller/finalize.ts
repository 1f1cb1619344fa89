import { involvedObject } from './involved.ts';
import { FINALIZER, type PodIdentityBinding } from '../api/types.ts';
import type { PolicyRef } from '../cloud/ports.ts';
import {
  MalformedTrustPolicyError,
  parseTrustDocument,
  removeBindingStatement,
  serializeTrustDocument,
} from '../identity/trust-policy.ts';
import { validateSpec } from '../api/validate.ts';
import { readLedger, ledgerTagKey } from './adoption-ledger.ts';
import { chooseRoleName, desiredState } from './desired.ts';
import { bindingIdentity, deleteOwnedInline } from './inline-policies.ts';
import { classifyRoleOwnership } from './ownership.ts';
import { policyKey } from './policies.ts';
import { unwireChanges } from './service-account.ts';
import type { ReconcileResult, ReconcilerDeps } from './types.ts';

/**
 * Deletion. What this binding owns is read from RAM, never from status (which a user with status
 * write could forge): a role whose ownership tags name this binding is emptied and deleted
 * (`Delete`); a role whose adoption ledger tag names it loses this binding's statement and the
 * policies the ledger records, then the ledger; any other role is left alone. `Retain`: RAM is
 * not touched. Both unwire the ServiceAccount if this binding wired it. A role that is already
 * gone counts as released. The finalizer goes last, so a crash anywhere before it simply runs
 * this again.
 */
export async function finalizeBinding(
  deps: ReconcilerDeps,
  binding: PodIdentityBinding,
): Promise<ReconcileResult> {
  if (!(binding.metadata.finalizers ?? []).includes(FINALIZER)) return {};
  const names = candidateRoleNames(binding, deps);
  // Cloud errors propagate: the runtime retries with backoff and the finalizer stays.
  if ((binding.spec.deletionPolicy ?? 'Delete') === 'Delete') {
    for (const roleName of names) await releaseRole(deps, binding, roleName);
    // Inline policies go with the role (after it let go of them); Retain keeps both (ADR 0011).
    await deleteOwnedInline(deps.ram, bindingIdentity(binding, deps.cluster), [], (what) =>
      deps.events.record(involvedObject(binding), 'Normal', 'InlinePolicyDeleted', what),
    );
  }
  for (const roleName of names) await unwireServiceAccount(deps, binding, roleName);
  await deps.bindings.removeFinalizer(binding);
  return {};
}

/**
 * Every role this binding may have made or adopted: the explicit name, else both the name status
 * recorded and the derived default (status may be stale, lost or forged; a role is only touched
 * once its tags prove it is this binding's, so checking one name too many is safe).
 */
function candidateRoleNames(binding: PodIdentityBinding, deps: ReconcilerDeps): string[] {
  if (!validateSpec(binding.spec).valid)
    return binding.status?.roleName ? [binding.status.roleName] : [];
  if (binding.spec.role?.name) return [binding.spec.role.name];
  const derived = chooseRoleName({ ...binding, status: {} }, deps.cluster);
  return [...new Set([binding.status?.roleName, derived].filter((n) => n !== undefined))];
}

async function releaseRole(
  deps: ReconcilerDeps,
  binding: PodIdentityBinding,
  roleName: string,
): Promise<void> {
  const { ram } = deps;
  const role = await ram.getRole(roleName);
  if (!role) return;
  const tags = await ram.listRoleTags(roleName);
  const id = {
    clusterId: deps.cluster.clusterId,
    namespace: binding.metadata.namespace,
    name: binding.metadata.name,
  };
  const ownership = classifyRoleOwnership(tags, id);
  const object = involvedObject(binding);
  if (ownership.kind === 'ours') {
    for (const policy of await ram.listPoliciesForRole(roleName))
      await ram.detachPolicy(roleName, policy);
    await ram.deleteRole(roleName);
    deps.events.record(object, 'Normal', 'RoleDeleted', `deleted RAM role ${roleName}`);
    return;
  }
  const ledger = readLedger(tags, id);
  if (ownership.kind === 'unmanaged' && ledger !== undefined) {
    await releaseAdoptedRole(deps, binding, roleName, role.trustPolicy, ledger);
    await ram.untagRole(roleName, [ledgerTagKey(id)]);
    return;
  }
  deps.events.record(
    object,
    'Normal',
    'RoleLeftInPlace',
    `role ${roleName} is not owned by this binding and was left untouched`,
  );
}

async function releaseAdoptedRole(
  deps: ReconcilerDeps,
  binding: PodIdentityBinding,
  roleName: string,
  trustPolicy: string,
  ledger: readonly PolicyRef[],
): Promise<void> {
  const { ram } = deps;
  const target = desiredState(binding, deps.cluster).target;
  try {
    const removed = removeBindingStatement(parseTrustDocument(trustPolicy), target);
    if (removed.changed)
      await ram.updateRole(roleName, { trustPolicy: serializeTrustDocument(removed.document) });
  } catch (error) {
    if (!(error instanceof MalformedTrustPolicyError)) throw error;
    // A document nobody can parse has no statement of ours to remove.
  }
  const ours = new Set(ledger.map(policyKey));
  const attached: PolicyRef[] = await ram.listPoliciesForRole(roleName);
  for (const policy of attached.filter((p) => ours.has(policyKey(p))))
    await ram.detachPolicy(roleName, policy);
  deps.events.record(
    involvedObject(binding),
    'Normal',
    'RoleReleased',
    `removed this binding's trust statement and policies from adopted role ${roleName}`,
  );
}

async function unwireServiceAccount(
  deps: ReconcilerDeps,
  binding: PodIdentityBinding,
  roleName: string,
): Promise<void> {
  const namespace = binding.metadata.namespace;
  const name = binding.spec.serviceAccountName;
  const current = await deps.serviceAccounts.get(namespace, name);
  if (!current) return;
  const changes = unwireChanges(current.annotations, roleName, binding.metadata.name);
  if (Object.keys(changes).length > 0)
    await deps.serviceAccounts.patchAnnotations(namespace, name, changes);
}
