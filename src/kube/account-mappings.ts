import type { KubernetesObject } from '@kubernetes/client-node';
import { ACCOUNT_MAPPING_PLURAL, type AccountMapping } from '../api/account-mapping.ts';
import { GROUP, VERSION } from '../api/types.ts';
import type { KubeClients } from './client.ts';
import { startResilientInformer, type ResilientInformer } from './informer.ts';

/** Watches the cluster-scoped AccountMappings; any change is handed to `onChange`. */
export function accountMappingInformer(
  kube: KubeClients,
  handlers: { onChange: () => void; onError: (error: unknown, retryInMs: number) => void },
): ResilientInformer<AccountMapping> {
  return startResilientInformer<KubernetesObject>({
    name: 'accountmappings',
    kubeConfig: kube.kubeConfig,
    path: `/apis/${GROUP}/${VERSION}/${ACCOUNT_MAPPING_PLURAL}`,
    list: async () =>
      (await kube.custom.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: ACCOUNT_MAPPING_PLURAL,
      })) as never,
    onEvent: () => handlers.onChange(),
    onError: handlers.onError,
  }) as unknown as ResilientInformer<AccountMapping>;
}
