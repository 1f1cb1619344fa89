import { FINALIZER, type PodIdentityBinding } from '../api/types.ts';
import type { PolicyRef } from '../cloud/ports.ts';
import {
  MalformedTrustPolicyError,
  parseTrustDocument,
  removeBindingStatement,
  serializeTrustDocument,
} from '../identity/trust-policy.ts';
import type { InvolvedObject } from '../kube/events.ts';
import { validateSpec } from '../api/validate.ts';
import { chooseRoleName, desiredState } from './desired.ts';
import { classifyRoleOwnership } from './ownership.ts';
import { policyKey } from './policies.ts';
import { unwireChanges } from './service-account.ts';
import type { ReconcileResult, ReconcilerDeps } from './types.ts';

/**
 * Deletion. `Delete`: a role the tags prove ours is emptied and deleted; an adopted role only
 * loses this binding's statement and the policies it attached; any other role is left alone.
 * `Retain`: RAM is not touched. Both unwire the ServiceAccount if it still names this role. A
 * role that is already gone counts as deleted. The finalizer goes last, so a crash anywhere
 * before it simply runs this again.
 */
export async function finalizeBinding(
  deps: ReconcilerDeps,
  binding: PodIdentityBinding,
): Promise<ReconcileResult> {
  if (!(binding.metadata.finalizers ?? []).includes(FINALIZER)) return {};
  // The role may exist even when status never recorded it (a crash between CreateRole and the
  // status write), so the name is derived the same way reconcile chose it. Deleting stays safe:
  // releaseRole acts only on what the tags prove is this binding's (or what it adopted).
  const roleName =
    binding.status?.roleName ??
    (validateSpec(binding.spec).valid ? chooseRoleName(binding, deps.cluster) : undefined);
  if (roleName) {
    // Cloud errors propagate: the runtime retries with backoff and the finalizer stays.
    if ((binding.spec.deletionPolicy ?? 'Delete') === 'Delete')
      await releaseRole(deps, binding, roleName);
    await unwireServiceAccount(deps, binding, roleName);
  }
  await deps.bindings.removeFinalizer(binding);
  return {};
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
  const ownership = classifyRoleOwnership(tags, {
    clusterId: deps.cluster.clusterId,
    namespace: binding.metadata.namespace,
    name: binding.metadata.name,
  });
  const object = involved(binding);
  if (ownership.kind === 'ours') {
    for (const policy of await ram.listPoliciesForRole(roleName))
      await ram.detachPolicy(roleName, policy);
    await ram.deleteRole(roleName);
    deps.events.record(object, 'Normal', 'RoleDeleted', `deleted RAM role ${roleName}`);
    return;
  }
  if (ownership.kind === 'unmanaged' && binding.status?.roleOwnership === 'Adopted') {
    await releaseAdoptedRole(deps, binding, roleName, role.trustPolicy);
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
  const ours = new Set((binding.status?.attachedPolicies ?? []).map(policyKey));
  const attached: PolicyRef[] = await ram.listPoliciesForRole(roleName);
  for (const policy of attached.filter((p) => ours.has(policyKey(p))))
    await ram.detachPolicy(roleName, policy);
  deps.events.record(
    involved(binding),
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
  const changes = unwireChanges(current.annotations, roleName);
  if (Object.keys(changes).length > 0)
    await deps.serviceAccounts.patchAnnotations(namespace, name, changes);
}

function involved(binding: PodIdentityBinding): InvolvedObject {
  return {
    apiVersion: binding.apiVersion,
    kind: binding.kind,
    namespace: binding.metadata.namespace,
    name: binding.metadata.name,
    uid: binding.metadata.uid,
  };
}
