import { statusCodeOf } from './api-status.ts';
import { JSON_PATCH, MERGE_PATCH, type KubeRest } from './rest.ts';

export const BINDING_GROUP = 'rrsa.dev';
export const BINDING_VERSION = 'v1alpha1';
export const BINDING_PLURAL = 'podidentitybindings';

/** The path of one binding (and, with `/status`, of its status subresource). */
export function bindingPath(namespace: string, name: string): string {
  return `/apis/${BINDING_GROUP}/${BINDING_VERSION}/namespaces/${encodeURIComponent(namespace)}/${BINDING_PLURAL}/${encodeURIComponent(name)}`;
}

export class StaleObjectError extends Error {
  override readonly name = 'StaleObjectError';
}

interface ObjectRef {
  namespace: string;
  name: string;
  resourceVersion: string;
  finalizers: readonly string[];
}

/** Writes to PodIdentityBindings: the status subresource and the finalizer. */
export class BindingClient {
  readonly #rest: KubeRest;
  readonly #fieldManager: string;

  constructor(rest: KubeRest, fieldManager = 'rrsa-operator') {
    this.#rest = rest;
    this.#fieldManager = fieldManager;
  }

  /**
   * One merge patch of the whole status: the controller computes it, only it writes it. With a
   * resourceVersion the write is conditional: a status computed from a stale cached binding
   * (for example one that predates our own last status write) is refused with a conflict and
   * recomputed, so facts recorded in status (which policies we attached) are never lost.
   */
  async patchStatus(
    namespace: string,
    name: string,
    status: unknown,
    resourceVersion?: string,
  ): Promise<void> {
    const body = resourceVersion ? { metadata: { resourceVersion }, status } : { status };
    try {
      await this.#rest.request('PATCH', `${bindingPath(namespace, name)}/status`, {
        query: { fieldManager: this.#fieldManager },
        body,
        contentType: MERGE_PATCH,
      });
    } catch (error) {
      if (statusCodeOf(error) === 409)
        throw new StaleObjectError(`${namespace}/${name} changed while it was reconciled`);
      throw error;
    }
  }

  /**
   * JSON patches guarded by a `test` of resourceVersion, so a finalizer list someone else just
   * changed is never overwritten; a stale view throws StaleObjectError and the key is retried.
   */
  async addFinalizer(ref: ObjectRef, finalizer: string): Promise<void> {
    if (ref.finalizers.includes(finalizer)) return;
    const op =
      ref.finalizers.length === 0
        ? { op: 'add', path: '/metadata/finalizers', value: [finalizer] }
        : { op: 'add', path: '/metadata/finalizers/-', value: finalizer };
    await this.#jsonPatch(ref, [op]);
  }

  async removeFinalizer(ref: ObjectRef, finalizer: string): Promise<void> {
    const index = ref.finalizers.indexOf(finalizer);
    if (index < 0) return;
    await this.#jsonPatch(ref, [
      { op: 'test', path: `/metadata/finalizers/${index}`, value: finalizer },
      { op: 'remove', path: `/metadata/finalizers/${index}` },
    ]);
  }

  async #jsonPatch(ref: ObjectRef, ops: object[]): Promise<void> {
    const body = [
      { op: 'test', path: '/metadata/resourceVersion', value: ref.resourceVersion },
      ...ops,
    ];
    try {
      await this.#rest.request('PATCH', bindingPath(ref.namespace, ref.name), {
        query: { fieldManager: this.#fieldManager },
        body,
        contentType: JSON_PATCH,
      });
    } catch (error) {
      const status = statusCodeOf(error);
      if (status === 404) return; // already gone: nothing left to guard
      if (status === 409 || status === 422) {
        throw new StaleObjectError(`${ref.namespace}/${ref.name} changed while it was reconciled`);
      }
      throw error;
    }
  }
}
