import { kubectl } from '../../devenv/kubectl.ts';
import { runSandbox } from '../../devenv/sandbox/sandbox.ts';

describe('the sandbox (npm run sandbox -- --once)', () => {
  it('walks the ACK demo end to end and leaves the cluster and the cloud in the expected state', async () => {
    const lines: string[] = [];
    const state: { bindings?: string; pod?: string; roles?: string[]; detached?: boolean } = {};
    const kubectlBefore = process.env.RRSA_KUBECTL;
    const code = await runSandbox({
      once: true,
      repoRoot: process.cwd(),
      print: (line) => lines.push(line),
      inspect: async ({ kubeconfigPath, emulator }) => {
        state.bindings = (
          await kubectl(kubeconfigPath, [
            'get',
            'pib',
            '-A',
            '-o',
            'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}',
          ])
        ).stdout;
        state.pod = (
          await kubectl(kubeconfigPath, ['get', 'pod', 'demo', '-n', 'rrsa-demo', '-o', 'json'])
        ).stdout;
        const dump = emulator.controls.dump();
        state.roles = dump.roles.map((r) => r.roleName).sort();
        const demo = dump.roles.find((r) => r.roleName === 'ack-pod-identity-webhook-demo');
        state.detached =
          demo?.policies.length === 1 && demo.policies[0]!.name === 'AliyunCSReadOnlyAccess';
      },
    });
    process.env.RRSA_KUBECTL = kubectlBefore;
    const output = lines.join('\n');
    expect(code).toBe(0);
    // Every step, from the output.
    for (const step of [
      'Start the local control plane',
      'Start the cloud emulator',
      'Run the operator',
      'Apply the samples',
      'Wait for every binding to be Ready',
      'Create the demo pod',
      "Exchange the pod's token at STS",
    ])
      expect(output).toMatch(new RegExp(`✓ ${step.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(output).toMatch(/demo\s+demo-sa\s+ack-pod-identity-webhook-demo\s+True\s+Bound/);
    expect(output).toContain(
      'ALIBABA_CLOUD_ROLE_ARN=acs:ram::1234567890123456:role/ack-pod-identity-webhook-demo',
    );
    expect(output).toContain(
      'ALIBABA_CLOUD_OIDC_PROVIDER_ARN=acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0sandbox',
    );
    expect(output).toMatch(/signed RAM ListRoles: \{"ok":true,"roles":\d+,"accessKeyId":"STS\./);
    expect(output).toMatch(
      /same call after the policy was removed: \{"ok":false,"code":"NoPermission","statusCode":403/,
    );
    expect(output).toContain('sandbox stopped; nothing left running');
    // --once removes everything on exit: no path to a deleted kubeconfig; the ports are named.
    expect(output).not.toContain('export KUBECONFIG=');
    expect(output).toMatch(
      /health: http:\/\/127\.0\.0\.1:\d+\/readyz {2}metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/,
    );
    expect(output).not.toContain('FAILED');
    // And from the live state, read before teardown.
    expect(state.bindings?.trim().split(' ').sort()).toEqual([
      'demo=True',
      'external-dns=True',
      'invoice-exporter=True',
      'report-generator=True',
      'web=True',
    ]);
    const pod = JSON.parse(state.pod!) as {
      spec: { volumes: { name: string }[]; containers: { env: { name: string }[] }[] };
    };
    expect(pod.spec.volumes.map((v) => v.name)).toContain('rrsa-oidc-token');
    expect(pod.spec.containers[0]!.env.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        'ALIBABA_CLOUD_ROLE_ARN',
        'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
        'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
        'ALIBABA_CLOUD_STS_ENDPOINT',
      ]),
    );
    expect(state.roles).toEqual(
      expect.arrayContaining(['ack-pod-identity-webhook-demo', 'external-dns-prod']),
    );
    expect(state.detached).toBe(true);
  }, 180_000);
});
