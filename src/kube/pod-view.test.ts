import { projectPod } from './pod-view.ts';

describe('projectPod', () => {
  it('keeps identity, owner, the RRSA env, mount and volume, and nothing else', () => {
    const view = projectPod({
      metadata: {
        name: 'web-1',
        namespace: 'team-a',
        uid: 'u1',
        resourceVersion: '7',
        labels: { app: 'web', 'pod-identity.alibabacloud.com/injection': 'on' },
        annotations: {
          'kubectl.kubernetes.io/restartedAt': 'x',
          'pod-identity.alibabacloud.com/skip-containers': 'proxy',
        },
        ownerReferences: [
          { kind: 'Node', name: 'n', uid: 'x' },
          { kind: 'ReplicaSet', name: 'web-5d4', uid: 'rs1', controller: true },
        ],
      },
      spec: {
        serviceAccountName: 'app-sa',
        containers: [
          {
            name: 'app',
            env: [
              { name: 'HOME', value: '/root' },
              { name: 'ALIBABA_CLOUD_ROLE_ARN', value: 'acs:ram::1:role/r' },
              {
                name: 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
                valueFrom: { secretKeyRef: { name: 's', key: 'k' } },
              },
            ],
            volumeMounts: [
              { name: 'data', mountPath: '/data' },
              {
                name: 'rrsa-oidc-token',
                mountPath: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens',
                readOnly: true,
              },
            ],
          },
        ],
        volumes: [
          { name: 'data' },
          { name: 'rrsa-oidc-token', projected: { defaultMode: 420, sources: [] } },
        ],
      },
      status: { phase: 'Running' },
    });
    expect(view).toEqual({
      metadata: {
        name: 'web-1',
        namespace: 'team-a',
        uid: 'u1',
        resourceVersion: '7',
        labels: { 'pod-identity.alibabacloud.com/injection': 'on' },
        annotations: { 'pod-identity.alibabacloud.com/skip-containers': 'proxy' },
      },
      spec: {
        serviceAccountName: 'app-sa',
        containers: [
          {
            name: 'app',
            env: [
              { name: 'ALIBABA_CLOUD_ROLE_ARN', value: 'acs:ram::1:role/r' },
              { name: 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN', valueFrom: true },
            ],
            volumeMounts: [
              {
                name: 'rrsa-oidc-token',
                mountPath: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens',
              },
            ],
          },
        ],
        initContainers: [],
        volumes: [{ name: 'rrsa-oidc-token', projected: { defaultMode: 420, sources: [] } }],
      },
      owner: { kind: 'ReplicaSet', name: 'web-5d4', uid: 'rs1' },
      phase: 'Running',
      terminating: false,
    });
  });

  it('defaults the ServiceAccount and the phase', () => {
    const view = projectPod({ metadata: { name: 'p', namespace: 'n' }, spec: {} });
    expect(view.spec.serviceAccountName).toBe('default');
    expect(view.phase).toBe('Pending');
    expect(view.owner).toBeUndefined();
  });
});
