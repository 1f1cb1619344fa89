import type { KubernetesObject } from '@kubernetes/client-node';
import { ACCOUNT_MAPPING_PLURAL, type AccountMapping } from '../api/account-mapping.ts';
import { GROUP, VERSION } from '../api/types.ts';
import type { KubeConnection } from './connect.ts';
import { startResilientInformer, type ResilientInformer } from './informer.ts';

/** Watches the cluster-scoped AccountMappings; any change is handed to `onChange`. */
export function accountMappingInformer(
  kube: KubeConnection,
  handlers: { onChange: () => void; onError: (error: unknown, retryInMs: number) => void },
): ResilientInformer<AccountMapping> {
  return startResilientInformer<KubernetesObject>({
    name: 'accountmappings',
    rest: kube.rest,
    path: `/apis/${GROUP}/${VERSION}/${ACCOUNT_MAPPING_PLURAL}`,
    onEvent: () => handlers.onChange(),
    onError: handlers.onError,
  }) as unknown as ResilientInformer<AccountMapping>;
}
