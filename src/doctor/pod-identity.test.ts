import type { PodIdentityBinding } from '../api/types.ts';
import { projectPod, type RawPod } from '../kube/pod-view.ts';
import { checkPodIdentity, type PodIdentityInput } from './pod-identity.ts';

const ROLE = 'acs:ram::1234567890123456:role/demo-role';
const PROVIDER = 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1';

const binding: PodIdentityBinding = {
  apiVersion: 'rrsa.dev/v1alpha1',
  kind: 'PodIdentityBinding',
  metadata: { name: 'demo', namespace: 'rrsa-demo' },
  spec: { serviceAccountName: 'demo-sa' },
  status: {
    roleArn: ROLE,
    oidcProviderArn: PROVIDER,
    pods: { total: 2, current: 1, stale: 1 },
    conditions: [
      {
        type: 'PodsCurrent',
        status: 'False',
        reason: 'StalePods',
        message: 'm',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  },
};

function pod(env: { name: string; value: string }[], withVolume: boolean): RawPod {
  return {
    metadata: {
      name: 'web-1',
      namespace: 'rrsa-demo',
      ownerReferences: [{ kind: 'ReplicaSet', name: 'web-5d4', uid: 'r', controller: true }],
    },
    spec: {
      serviceAccountName: 'demo-sa',
      containers: [
        {
          name: 'app',
          env,
          volumeMounts: withVolume
            ? [
                {
                  name: 'rrsa-oidc-token',
                  mountPath: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens',
                },
              ]
            : [],
        },
      ],
      volumes: withVolume
        ? [
            {
              name: 'rrsa-oidc-token',
              projected: {
                defaultMode: 420,
                sources: [
                  {
                    serviceAccountToken: {
                      audience: 'sts.aliyuncs.com',
                      expirationSeconds: 3600,
                      path: 'token',
                    },
                  },
                ],
              },
            },
          ]
        : [],
    },
    status: { phase: 'Running' },
  };
}

const injectedEnv = (role: string) => [
  { name: 'ALIBABA_CLOUD_ROLE_ARN', value: role },
  { name: 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN', value: PROVIDER },
  {
    name: 'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
    value: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token',
  },
];

function input(raw: RawPod): PodIdentityInput {
  return {
    pod: projectPod(raw),
    namespace: { name: 'rrsa-demo', labels: { 'pod-identity.alibabacloud.com/injection': 'on' } },
    serviceAccount: { annotations: { 'pod-identity.alibabacloud.com/role-name': 'demo-role' } },
    serviceAccountName: 'demo-sa',
    bindings: [binding],
  };
}

describe('doctor: the controller’s current/stale verdict for one pod', () => {
  it('current, with what the binding reports', () => {
    const [finding] = checkPodIdentity(input(pod(injectedEnv(ROLE), true)));
    expect(finding).toEqual({
      verdict: 'ok',
      check: 'identity',
      message: `pod web-1 is current: it carries what the webhook injects now (${ROLE}); PodIdentityBinding demo reports 1 of 2 pods stale (StalePods)`,
    });
  });

  it('stale: another role, with the owner and the remedy', () => {
    const [finding] = checkPodIdentity(
      input(pod(injectedEnv('acs:ram::1234567890123456:role/old'), true)),
    );
    expect(finding).toMatchObject({
      verdict: 'fail',
      message: expect.stringContaining(
        `runs with a stale identity: app: role acs:ram::1234567890123456:role/old, now ${ROLE}`,
      ),
      fix: expect.stringContaining('owner ReplicaSet/web-5d4'),
    });
    expect(finding!.fix).toContain('spec.restartStalePods: true');
  });

  it('stale: not injected; nothing said when no binding reports a role yet', () => {
    expect(checkPodIdentity(input(pod([], false)))[0]).toMatchObject({
      verdict: 'fail',
      message: expect.stringContaining('app: not injected'),
    });
    expect(
      checkPodIdentity({ ...input(pod([], false)), bindings: [{ ...binding, status: {} }] }),
    ).toEqual([]);
  });
});
