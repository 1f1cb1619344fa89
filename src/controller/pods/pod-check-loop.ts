import type { PodIdentityBinding } from '../../api/types.ts';
import { describeApiError } from '../../kube/api-errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import { runWorkers } from '../../runtime/workers.ts';
import { WorkQueue, type BackoffOptions } from '../../runtime/workqueue.ts';
import { keysForServiceAccount, parseBindingKey } from '../triggers.ts';
import type { PodChecks } from './pod-checks.ts';

/**
 * The pod checks' own queue and worker, apart from the reconciler's: pod churn (a Deployment
 * scaling, a rollout) queues these cheap passes, never a reconcile with its RAM reads. Keys are
 * binding keys, deduplicated, so a rollout of 100 pods costs a handful of passes.
 */
export class PodCheckLoop {
  readonly #queue: WorkQueue;
  readonly #checks: PodChecks;
  readonly #logger: Logger;
  #workers: Promise<void> | undefined;

  constructor(checks: PodChecks, logger: Logger, backoff?: BackoffOptions) {
    this.#checks = checks;
    this.#logger = logger;
    this.#queue = new WorkQueue(backoff ? { backoff } : {});
  }

  enqueue(key: string): void {
    this.#queue.add(key);
  }

  /** A pod came, changed or went: the bindings of its ServiceAccount look again. */
  onPod(
    namespace: string,
    serviceAccountName: string,
    bindings: readonly PodIdentityBinding[],
  ): void {
    for (const key of keysForServiceAccount(namespace, serviceAccountName, bindings))
      this.#queue.add(key);
  }

  onBindingDeleted(namespace: string, name: string): void {
    this.#checks.forget(namespace, name);
  }

  start(): void {
    this.#workers = runWorkers(
      this.#queue,
      1,
      async (key) => {
        const { namespace, name } = parseBindingKey(key);
        return this.#checks.check(namespace, name);
      },
      {
        onResult: (key, result, _ms, error) => {
          if (result === 'error')
            this.#logger.log('info', 'pod check failed; retrying', {
              binding: key,
              error: describeApiError(error),
            });
        },
      },
      30_000,
    );
  }

  async stop(): Promise<void> {
    await this.#queue.shutDownWithDrain();
    await this.#workers;
  }
}
