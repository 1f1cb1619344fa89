import { findCondition } from '../api/conditions.ts';
import { ANNOTATION_ROLE_NAME, ConditionType, type PodIdentityBinding } from '../api/types.ts';
import type { PodView } from '../kube/pod-view.ts';
import { checkPodIdentity } from './pod-identity.ts';

export const INJECTION_LABEL = 'pod-identity.alibabacloud.com/injection';
const TOKEN_VOLUME = 'rrsa-oidc-token';
const ROLE_ARN_ENV = 'ALIBABA_CLOUD_ROLE_ARN';

export interface DoctorPod {
  name: string;
  labels: Record<string, string>;
  serviceAccountName: string;
  createdAt: string;
  /** Env var names per container (init containers included). */
  containerEnv: { container: string; env: string[] }[];
  tokenVolume?:
    { audience?: string | undefined; expirationSeconds?: number | undefined } | undefined;
}

export interface DoctorInput {
  namespace: { name: string; labels: Record<string, string> } | undefined;
  serviceAccountName: string;
  serviceAccount:
    { annotations: Record<string, string>; roleAnnotatedAt?: string | undefined } | undefined;
  bindings: readonly PodIdentityBinding[];
  webhook:
    | { readable: true; registered: boolean; caBundle: boolean; serviceReady: boolean | undefined }
    | { readable: false };
  pod?: DoctorPod | undefined;
  /** The same pod as the controller's pod checks see it (current/stale verdict). */
  podView?: PodView | undefined;
}

/** The MutatingWebhookConfiguration config/webhook installs. */
export const WEBHOOK_CONFIGURATION_NAME = 'rrsa-operator-pod-identity';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface Finding {
  verdict: Verdict;
  check: string;
  message: string;
  /** What to do about it; absent when nothing needs doing. */
  fix?: string;
}

/**
 * Why a pod has (or lacks) RRSA credentials, checked in the order the wiring happens: namespace
 * opt-in, ServiceAccount annotation, binding status, webhook, and finally the pod itself.
 * Pure: `rrsa-operator doctor` gathers the inputs from the apiserver.
 */
export function diagnose(input: DoctorInput): Finding[] {
  const chain = [
    ...checkNamespace(input),
    ...checkServiceAccount(input),
    ...checkBindings(input),
    ...checkWebhook(input),
  ];
  const chainFailed = chain.some((f) => f.verdict === 'fail');
  return [
    ...chain,
    ...(input.pod ? checkPod(input, input.pod, chainFailed) : []),
    ...(input.podView ? checkPodIdentity({ ...input, pod: input.podView }) : []),
  ];
}

function checkNamespace(input: DoctorInput): Finding[] {
  if (!input.namespace)
    return [{ verdict: 'fail', check: 'namespace', message: 'the namespace does not exist' }];
  const on = input.namespace.labels[INJECTION_LABEL] === 'on';
  const podOn = input.pod?.labels[INJECTION_LABEL] === 'on';
  if (on || podOn)
    return [
      {
        verdict: 'ok',
        check: 'namespace',
        message: on
          ? `namespace ${input.namespace.name} has ${INJECTION_LABEL}=on`
          : `pod ${input.pod?.name ?? ''} opts in with the label ${INJECTION_LABEL}=on`,
      },
    ];
  return [
    {
      verdict: 'fail',
      check: 'namespace',
      message: `neither namespace ${input.namespace.name} nor the pod has the label ${INJECTION_LABEL}=on, so the webhook skips its pods`,
      fix: `kubectl label namespace ${input.namespace.name} ${INJECTION_LABEL}=on`,
    },
  ];
}

function checkServiceAccount(input: DoctorInput): Finding[] {
  const name = input.serviceAccountName;
  if (!input.serviceAccount)
    return [
      {
        verdict: 'fail',
        check: 'serviceaccount',
        message: `ServiceAccount ${name} does not exist`,
        fix: `create it, or set spec.createServiceAccount: true on its PodIdentityBinding`,
      },
    ];
  const role = input.serviceAccount.annotations[ANNOTATION_ROLE_NAME];
  if (!role)
    return [
      {
        verdict: 'fail',
        check: 'serviceaccount',
        message: `ServiceAccount ${name} has no ${ANNOTATION_ROLE_NAME} annotation`,
        fix: `create a PodIdentityBinding with spec.serviceAccountName: ${name} (the operator annotates it)`,
      },
    ];
  return [
    {
      verdict: 'ok',
      check: 'serviceaccount',
      message: `ServiceAccount ${name} names role ${role}`,
    },
  ];
}

function checkBindings(input: DoctorInput): Finding[] {
  const mine = input.bindings.filter((b) => b.spec.serviceAccountName === input.serviceAccountName);
  if (mine.length === 0)
    return [
      {
        verdict: 'warn',
        check: 'binding',
        message: `no PodIdentityBinding names ServiceAccount ${input.serviceAccountName}; the annotation (if any) is managed by hand`,
      },
    ];
  return mine.map((binding) => {
    const ready = findCondition(binding.status?.conditions, ConditionType.Ready);
    const name = `PodIdentityBinding ${binding.metadata.name}`;
    if (ready?.status === 'True')
      return {
        verdict: 'ok' as const,
        check: 'binding',
        message: `${name} is Ready: ${ready.message}`,
      };
    const stalled = findCondition(binding.status?.conditions, ConditionType.Stalled);
    const detail = ready
      ? `${ready.reason}: ${ready.message}`
      : 'not reconciled yet (is the operator running?)';
    return {
      verdict: 'fail' as const,
      check: 'binding',
      message: `${name} is not Ready: ${detail}`,
      fix:
        stalled?.status === 'True'
          ? 'change the binding as the message says'
          : 'wait, or check the operator logs',
    };
  });
}

function checkWebhook(input: DoctorInput): Finding[] {
  const { webhook } = input;
  if (!webhook.readable)
    return [
      {
        verdict: 'warn',
        check: 'webhook',
        message: `you may not read MutatingWebhookConfiguration ${WEBHOOK_CONFIGURATION_NAME} (cluster-scoped), so the webhook was not checked`,
        fix: `ask a cluster admin to run doctor, or to check \`kubectl get mutatingwebhookconfiguration ${WEBHOOK_CONFIGURATION_NAME}\``,
      },
    ];
  if (!webhook.registered)
    return [
      {
        verdict: 'fail',
        check: 'webhook',
        message: 'no MutatingWebhookConfiguration for the pod identity webhook is registered',
        fix: 'install the operator (kubectl apply -k config/default)',
      },
    ];
  if (!webhook.caBundle)
    return [
      {
        verdict: 'fail',
        check: 'webhook',
        message: 'the webhook configuration has no caBundle yet, so the apiserver cannot call it',
        fix: 'check that the operator is running and can patch its MutatingWebhookConfiguration',
      },
    ];
  if (webhook.serviceReady === false)
    return [
      {
        verdict: 'fail',
        check: 'webhook',
        message: 'the webhook Service has no ready endpoints',
        fix: 'kubectl -n rrsa-system get pods; check the operator pods are Ready',
      },
    ];
  return [{ verdict: 'ok', check: 'webhook', message: 'the webhook is registered and serving' }];
}

function checkPod(input: DoctorInput, pod: DoctorPod, chainFailed: boolean): Finding[] {
  const findings: Finding[] = [];
  const injected = pod.containerEnv.filter((c) => c.env.includes(ROLE_ARN_ENV));
  const annotatedAt = input.serviceAccount?.roleAnnotatedAt;
  if (injected.length === 0) {
    const before = annotatedAt && Date.parse(pod.createdAt) < Date.parse(annotatedAt);
    findings.push({
      verdict: 'fail',
      check: 'pod',
      message: before
        ? `pod ${pod.name} was created (${pod.createdAt}) before its ServiceAccount was annotated (${annotatedAt}); pods are only mutated at creation`
        : `pod ${pod.name} has no ${ROLE_ARN_ENV} in any container`,
      fix: before
        ? `restart it: kubectl rollout restart the owning workload, or delete pod ${pod.name}`
        : chainFailed
          ? 'fix the failures above, then recreate the pod'
          : "the wiring is in place now: recreate the pod (it was probably created before it was); if a new pod still lacks the env, read the operator's webhook log",
    });
  } else {
    findings.push({
      verdict: 'ok',
      check: 'pod',
      message: `containers ${injected.map((c) => c.container).join(', ')} have the RRSA env`,
    });
  }
  if (injected.length > 0) findings.push(checkToken(pod));
  return findings;
}

function checkToken(pod: DoctorPod): Finding {
  const volume = pod.tokenVolume;
  if (!volume)
    return {
      verdict: 'fail',
      check: 'token',
      message: `pod ${pod.name} has the env but no ${TOKEN_VOLUME} volume`,
      fix: 'recreate the pod so the webhook adds the projected token volume',
    };
  if (volume.audience !== 'sts.aliyuncs.com')
    return {
      verdict: 'fail',
      check: 'token',
      message: `the projected token's audience is ${volume.audience ?? '(none)'}; STS only accepts sts.aliyuncs.com`,
      fix: 'remove the hand-written rrsa-oidc-token volume and recreate the pod',
    };
  const expiration = volume.expirationSeconds ?? 3600;
  if (expiration < 600 || expiration > 43200)
    return {
      verdict: 'warn',
      check: 'token',
      message: `token expirationSeconds ${expiration} is outside 600..43200`,
    };
  return {
    verdict: 'ok',
    check: 'token',
    message: `projected token for sts.aliyuncs.com, ${expiration}s, at /var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token`,
  };
}

export function renderFindings(findings: readonly Finding[]): string {
  const mark: Record<Verdict, string> = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]' };
  return findings
    .map(
      (f) => `${mark[f.verdict]} ${f.check}: ${f.message}${f.fix ? `\n        fix: ${f.fix}` : ''}`,
    )
    .join('\n');
}
