import type { ServiceAccountState, ServiceAccountStore } from '../controller/types.ts';
import { isNamespaceTerminating } from './api-errors.ts';
import type { ServiceAccountClient } from './service-accounts.ts';

/** The controller's ServiceAccount port over the shared ServiceAccountClient. */
export class KubeServiceAccountStore implements ServiceAccountStore {
  readonly #client: ServiceAccountClient;

  constructor(client: ServiceAccountClient) {
    this.#client = client;
  }

  async get(namespace: string, name: string): Promise<ServiceAccountState | undefined> {
    const view = await this.#client.read(namespace, name, 5000);
    return view ? { annotations: view.annotations } : undefined;
  }

  async patchAnnotations(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<void> {
    await this.#client.patchAnnotations(namespace, name, annotations);
  }

  async create(
    namespace: string,
    name: string,
    annotations: Record<string, string>,
  ): Promise<void | 'namespace-terminating'> {
    let result;
    try {
      result = await this.#client.create(namespace, name, annotations, {
        'app.kubernetes.io/managed-by': 'rrsa-operator',
      });
    } catch (error) {
      if (isNamespaceTerminating(error)) return 'namespace-terminating';
      throw error;
    }
    // Someone created it between our read and our create: annotate theirs instead.
    if (result === 'exists') await this.#client.patchAnnotations(namespace, name, annotations);
  }
}
