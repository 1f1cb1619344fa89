import type { PodIdentityBinding } from '../api/types.ts';
import { diagnose, renderFindings, type DoctorInput, type DoctorPod } from './diagnose.ts';

const readyBinding: PodIdentityBinding = {
  apiVersion: 'rrsa.dev/v1alpha1',
  kind: 'PodIdentityBinding',
  metadata: { name: 'demo', namespace: 'rrsa-demo' },
  spec: { serviceAccountName: 'demo-sa' },
  status: {
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Bound',
        message: 'bound',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  },
};

const pod: DoctorPod = {
  name: 'demo',
  labels: {},
  serviceAccountName: 'demo-sa',
  createdAt: '2026-01-01T01:00:00Z',
  containerEnv: [
    { container: 'app', env: ['ALIBABA_CLOUD_ROLE_ARN', 'ALIBABA_CLOUD_OIDC_TOKEN_FILE'] },
  ],
  tokenVolume: { audience: 'sts.aliyuncs.com', expirationSeconds: 3600 },
};

const healthy: DoctorInput = {
  namespace: { name: 'rrsa-demo', labels: { 'pod-identity.alibabacloud.com/injection': 'on' } },
  serviceAccountName: 'demo-sa',
  serviceAccount: {
    annotations: { 'pod-identity.alibabacloud.com/role-name': 'demo-role' },
    roleAnnotatedAt: '2026-01-01T00:00:00Z',
  },
  bindings: [readyBinding],
  webhook: { readable: true, registered: true, caBundle: true, serviceReady: true },
  pod,
};

const failing = (input: DoctorInput) => diagnose(input).filter((f) => f.verdict !== 'ok');

describe('doctor', () => {
  it('reports all ok for a correctly wired pod', () => {
    expect(failing(healthy)).toEqual([]);
    expect(renderFindings(diagnose(healthy))).toContain(
      '[ok]   token: projected token for sts.aliyuncs.com',
    );
  });

  it.each<[string, DoctorInput, RegExp, RegExp | undefined]>([
    [
      'namespace not labelled',
      { ...healthy, namespace: { name: 'rrsa-demo', labels: {} } },
      /neither namespace rrsa-demo nor the pod/,
      /kubectl label namespace rrsa-demo/,
    ],
    [
      'ServiceAccount missing',
      { ...healthy, serviceAccount: undefined },
      /ServiceAccount demo-sa does not exist/,
      /createServiceAccount/,
    ],
    [
      'annotation missing',
      { ...healthy, serviceAccount: { annotations: {} } },
      /has no pod-identity.alibabacloud.com\/role-name/,
      /PodIdentityBinding/,
    ],
    [
      'no binding',
      { ...healthy, bindings: [] },
      /no PodIdentityBinding names ServiceAccount demo-sa/,
      undefined,
    ],
    [
      'binding stalled',
      {
        ...healthy,
        bindings: [
          {
            ...readyBinding,
            status: {
              conditions: [
                {
                  type: 'Ready',
                  status: 'False',
                  reason: 'GuardrailViolation',
                  message: 'policy denied',
                  lastTransitionTime: '',
                },
                {
                  type: 'Stalled',
                  status: 'True',
                  reason: 'GuardrailViolation',
                  message: 'policy denied',
                  lastTransitionTime: '',
                },
              ],
            },
          },
        ],
      },
      /is not Ready: GuardrailViolation: policy denied/,
      /change the binding/,
    ],
    [
      'webhook not registered',
      {
        ...healthy,
        webhook: { readable: true, registered: false, caBundle: false, serviceReady: undefined },
      },
      /no MutatingWebhookConfiguration/,
      /config\/default/,
    ],
    [
      'webhook without caBundle',
      {
        ...healthy,
        webhook: { readable: true, registered: true, caBundle: false, serviceReady: true },
      },
      /no caBundle/,
      /patch its MutatingWebhookConfiguration/,
    ],
    [
      'webhook without endpoints',
      {
        ...healthy,
        webhook: { readable: true, registered: true, caBundle: true, serviceReady: false },
      },
      /no ready endpoints/,
      /get pods/,
    ],
    [
      'pod created before the annotation',
      {
        ...healthy,
        pod: {
          ...pod,
          createdAt: '2025-12-31T00:00:00Z',
          containerEnv: [{ container: 'app', env: [] }],
        },
      },
      /was created \(2025-12-31T00:00:00Z\) before its ServiceAccount was annotated/,
      /restart it/,
    ],
    [
      'pod without env',
      { ...healthy, pod: { ...pod, containerEnv: [{ container: 'app', env: [] }] } },
      /has no ALIBABA_CLOUD_ROLE_ARN/,
      /recreate the pod/,
    ],
    [
      'token audience wrong',
      { ...healthy, pod: { ...pod, tokenVolume: { audience: 'kubernetes' } } },
      /audience is kubernetes/,
      /recreate the pod/,
    ],
    [
      'token volume missing',
      { ...healthy, pod: { ...pod, tokenVolume: undefined } },
      /no rrsa-oidc-token volume/,
      /recreate/,
    ],
  ])('diagnoses: %s', (_name, input, message, fix) => {
    const problems = failing(input);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => p.message).join('\n')).toMatch(message);
    if (fix) expect(problems.map((p) => p.fix ?? '').join('\n')).toMatch(fix);
  });

  it('accepts a pod-level opt-in label', () => {
    const input = {
      ...healthy,
      namespace: { name: 'rrsa-demo', labels: {} },
      pod: { ...pod, labels: { 'pod-identity.alibabacloud.com/injection': 'on' } },
    };
    expect(failing(input)).toEqual([]);
  });

  it('warns, not fails, when the user may not read the webhook configuration', () => {
    const findings = diagnose({ ...healthy, webhook: { readable: false } });
    const webhook = findings.find((f) => f.check === 'webhook');
    expect(webhook?.verdict).toBe('warn');
    expect(webhook?.fix).toMatch(/cluster admin/);
    expect(findings.some((f) => f.verdict === 'fail')).toBe(false);
  });

  it('says "fix the failures above" only when something above failed', () => {
    const uninjected = { ...pod, containerEnv: [] };
    const alone = diagnose({ ...healthy, pod: uninjected }).find((f) => f.check === 'pod');
    expect(alone?.verdict).toBe('fail');
    expect(alone?.fix).not.toMatch(/failures above/);
    expect(alone?.fix).toMatch(/recreate the pod/);
    const withFailure = diagnose({
      ...healthy,
      namespace: { name: 'rrsa-demo', labels: {} },
      pod: uninjected,
    }).find((f) => f.check === 'pod');
    expect(withFailure?.fix).toMatch(/fix the failures above/);
  });
});
