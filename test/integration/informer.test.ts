import type { V1ServiceAccount } from '@kubernetes/client-node';
import { kubectl } from '../../devenv/kubectl.ts';
import { createKubeClients, loadKubeConfig } from '../../src/kube/client.ts';
import { startResilientInformer } from '../../src/kube/informer.ts';
import { serviceAccountInformer } from '../../src/kube/service-accounts.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';
import { eventually } from '../support/operator-env.ts';

const cp = testControlPlane();

const managedFields = [
  { manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1' },
];

describe('resilient informer cache', () => {
  it('keeps objects without managedFields', async () => {
    // The apiserver built by hack/ stores no managedFields (real clusters do, on every object), so
    // the list adds them the way a real apiserver would answer.
    const ns = await createNamespace(cp, 'informer');
    const kube = createKubeClients(loadKubeConfig(cp.kubeconfigPath));
    await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', 'listed', '-n', ns]);
    const informer = startResilientInformer<V1ServiceAccount>({
      name: 'test-serviceaccounts',
      rest: kube.rest,
      path: `/api/v1/namespaces/${ns}/serviceaccounts`,
      list: async () => {
        const list = await kube.core.listNamespacedServiceAccount({ namespace: ns });
        for (const item of list.items)
          item.metadata!.managedFields = structuredClone(managedFields);
        return list;
      },
    });
    await informer.start();
    try {
      const listed = informer.get('listed', ns);
      expect(listed?.metadata?.name).toBe('listed');
      expect(listed?.metadata?.managedFields).toBeUndefined();

      await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', 'watched', '-n', ns]);
      await kubectl(cp.kubeconfigPath, ['annotate', 'serviceaccount', 'watched', '-n', ns, 'a=b']);
      const cached = await eventually(
        'the annotated ServiceAccount in the cache',
        () => {
          const sa = informer.get('watched', ns);
          return sa?.metadata?.annotations?.a === 'b' ? sa : undefined;
        },
        10_000,
      );
      expect(cached.metadata?.managedFields).toBeUndefined();
    } finally {
      await informer.stop();
    }
  });

  it('caches ServiceAccounts as metadata only, from the list and from the watch', async () => {
    const ns = await createNamespace(cp, 'informer-meta');
    const kube = createKubeClients(loadKubeConfig(cp.kubeconfigPath));
    const body = (name: string) => ({
      metadata: { name, annotations: { role: name }, labels: { team: 'a' } },
      secrets: [{ name: `${name}-token` }],
      automountServiceAccountToken: false,
    });
    await kube.core.createNamespacedServiceAccount({ namespace: ns, body: body('listed') });
    const informer = serviceAccountInformer(kube);
    await informer.start();
    try {
      const shape = (name: string) => {
        const sa = informer.get(name, ns) as unknown as Record<string, unknown>;
        return sa && { keys: Object.keys(sa), metadata: sa.metadata };
      };
      const expected = (name: string) => ({
        keys: ['metadata'],
        metadata: {
          name,
          namespace: ns,
          uid: expect.any(String) as unknown,
          resourceVersion: expect.any(String) as unknown,
          annotations: { role: name },
          labels: { team: 'a' },
        },
      });
      expect(informer.hasSynced()).toBe(true);
      expect(shape('listed')).toEqual(expected('listed'));
      await kube.core.createNamespacedServiceAccount({ namespace: ns, body: body('watched') });
      const watched = await eventually(
        'the watched ServiceAccount',
        () => shape('watched'),
        10_000,
      );
      expect(watched).toEqual(expected('watched'));
      await kube.core.deleteNamespacedServiceAccount({ namespace: ns, name: 'watched' });
      await eventually(
        'the deleted ServiceAccount gone from the cache',
        () => (informer.get('watched', ns) ? undefined : true),
        10_000,
      );
    } finally {
      await informer.stop();
    }
  });
});
