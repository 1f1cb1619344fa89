import type { PodIdentityBinding } from '../../src/api/types.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import type { KubeRest, RequestOptions } from '../../src/kube/rest.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';
import { eventually, startOperatorEnv, type OperatorEnv } from '../support/operator-env.ts';

// The controller reads namespaces from its metadata-only cache (ADR 0020): a converged binding's
// passes do no namespace GET, and a namespace's label change re-queues its bindings at once. The
// resync period is ten minutes, so nothing here can be the resync doing it.

jest.setTimeout(120_000);

const cp = testControlPlane();
const INJECTION = 'pod-identity.alibabacloud.com/injection';
const NOT_LABELLED = 'is not labelled';
/** Every GET the controller sent, by path (counted at its REST client). */
const gets: string[] = [];
let env: OperatorEnv;

function countGets(rest: KubeRest): void {
  const get = rest.get.bind(rest);
  rest.get = <T>(path: string, options?: RequestOptions): Promise<T> => {
    gets.push(path);
    return get<T>(path, options);
  };
}

beforeAll(async () => {
  env = await startOperatorEnv({
    resyncMs: 600_000,
    podChecks: { allowPodRestart: false },
    onRest: countGets,
  });
});
afterAll(async () => {
  await env?.stop();
});

const namespaceGets = (ns: string): number =>
  gets.filter((path) => path === `/api/v1/namespaces/${ns}`).length;

async function reconciles(): Promise<number> {
  let total = 0;
  for (const line of (await env.metricsText()).split('\n'))
    if (line.startsWith('rrsa_reconcile_total{')) total += Number(line.split(' ').pop());
  return total;
}

async function readyMessage(ns: string, name: string): Promise<string | undefined> {
  const b = (await env.admin.custom.getNamespacedCustomObject({
    group: 'rrsa.dev',
    version: 'v1alpha1',
    plural: 'podidentitybindings',
    namespace: ns,
    name,
  })) as PodIdentityBinding;
  const ready = b.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && b.status?.observedGeneration === b.metadata.generation
    ? ready.message
    : undefined;
}

describe('the shared Namespace cache', () => {
  it('reads namespaces from the cache in steady state, and a label change updates Ready at once', async () => {
    const ns = await createNamespace(cp, 'nscache');
    await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'rrsa.dev/v1alpha1',
        kind: 'PodIdentityBinding',
        metadata: { name: 'app', namespace: ns, labels: env.labels },
        spec: { serviceAccountName: 'app', createServiceAccount: true },
      }),
    });
    const first = await eventually('Ready', () => readyMessage(ns, 'app'), 60_000);
    expect(first).toContain(NOT_LABELLED);
    // A namespace created a moment before its binding may miss the cache once, never more.
    const startupGets = namespaceGets(ns);
    expect(startupGets).toBeLessThanOrEqual(1);

    // Steady state: passes queued by Kubernetes events (a binding label each) read no namespace.
    const before = await reconciles();
    for (let i = 1; i <= 5; i++) {
      await kubectl(cp.kubeconfigPath, [
        'label',
        'pib',
        'app',
        '-n',
        ns,
        `poke=${i}`,
        '--overwrite',
      ]);
      await eventually(`pass ${i}`, async () =>
        (await reconciles()) >= before + i ? true : undefined,
      );
    }
    const passes = (await reconciles()) - before;
    expect(passes).toBeGreaterThanOrEqual(5);
    expect(namespaceGets(ns)).toBe(startupGets);
    console.log(
      `namespace GETs: ${startupGets} at start-up, ${namespaceGets(ns) - startupGets} over ${passes} steady-state passes`,
    );

    // Labelling the namespace for injection re-queues its binding: Ready drops the hint now,
    // not at the resync ten minutes away; and removing the label brings it back.
    const labelledAt = Date.now();
    await kubectl(cp.kubeconfigPath, ['label', 'namespace', ns, `${INJECTION}=on`]);
    await eventually(
      'Ready without the opt-in hint',
      async () =>
        (await readyMessage(ns, 'app'))?.includes(NOT_LABELLED) === false ? true : undefined,
      20_000,
    );
    const followedMs = Date.now() - labelledAt;
    await kubectl(cp.kubeconfigPath, ['label', 'namespace', ns, `${INJECTION}-`]);
    await eventually(
      'Ready with the opt-in hint again',
      async () => ((await readyMessage(ns, 'app'))?.includes(NOT_LABELLED) ? true : undefined),
      20_000,
    );
    console.log(`Ready followed the injection label in ${followedMs} ms (resync 600 s)`);
    expect(namespaceGets(ns)).toBe(startupGets);
    await kubectl(cp.kubeconfigPath, ['delete', 'namespace', ns, '--wait=false']);
  });
});
