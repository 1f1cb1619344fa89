import { ConditionType, type PodIdentityBinding } from '../api/types.ts';
import { classifyPod } from '../controller/pods/classify.ts';
import type { PodView } from '../kube/pod-view.ts';
import { defaultInjectionConfig } from '../webhook/config.ts';
import type { Finding } from './diagnose.ts';

export interface PodIdentityInput {
  pod: PodView;
  namespace: { name: string; labels: Record<string, string> } | undefined;
  serviceAccount: { annotations: Record<string, string> } | undefined;
  serviceAccountName: string;
  bindings: readonly PodIdentityBinding[];
}

const ACCOUNT_OF_ARN = /^acs:ram::(\d+):/;

/**
 * The controller's current/stale verdict (controller/pods/classify.ts) for one pod. doctor has no
 * manager configuration, so the webhook's settings come from what the binding reports: its role
 * ARN names the account, status.oidcProviderArn the provider. Only the identity env is judged, so
 * the STS settings doctor cannot know do not matter.
 */
export function checkPodIdentity(input: PodIdentityInput): Finding[] {
  const binding = input.bindings.find(
    (b) => b.spec.serviceAccountName === input.serviceAccountName && b.status?.roleArn,
  );
  const accountId = ACCOUNT_OF_ARN.exec(binding?.status?.roleArn ?? '')?.[1];
  if (!binding || !accountId || !binding.status?.oidcProviderArn) return [];
  const config = defaultInjectionConfig({
    accountId,
    clusterId: '',
    oidcProviderArn: binding.status.oidcProviderArn,
    stsEnv: { enabled: false, region: '', vpcEndpoint: false },
  });
  const verdict = classifyPod(
    input.pod,
    input.serviceAccount && {
      metadata: { name: input.serviceAccountName, annotations: input.serviceAccount.annotations },
    },
    input.namespace && { metadata: { name: input.namespace.name, labels: input.namespace.labels } },
    config,
  );
  const reported = reportedCounts(binding);
  if (verdict.state === 'ignored')
    return [
      {
        verdict: 'ok',
        check: 'identity',
        message: `pod ${input.pod.metadata.name} is finished or terminating`,
      },
    ];
  if (verdict.state === 'current')
    return [
      {
        verdict: 'ok',
        check: 'identity',
        message: `pod ${input.pod.metadata.name} is current: it carries what the webhook injects now${verdict.expected ? ` (${verdict.expected.roleArn})` : ' (nothing)'}${reported}`,
      },
    ];
  const owner = input.pod.owner;
  return [
    {
      verdict: 'fail',
      check: 'identity',
      message: `pod ${input.pod.metadata.name} runs with a stale identity: ${verdict.why}${reported}`,
      fix: owner
        ? `restart its workload (owner ${owner.kind}/${owner.name}; kubectl rollout restart deployment|statefulset|daemonset NAME), or set spec.restartStalePods: true on PodIdentityBinding ${binding.metadata.name}`
        : `it has no owner: delete and recreate pod ${input.pod.metadata.name}`,
    },
  ];
}

function reportedCounts(binding: PodIdentityBinding): string {
  const pods = binding.status?.pods;
  const condition = binding.status?.conditions?.find((c) => c.type === ConditionType.PodsCurrent);
  if (!pods || !condition) return '';
  return `; PodIdentityBinding ${binding.metadata.name} reports ${pods.stale} of ${pods.total} pods stale (${condition.reason})`;
}
