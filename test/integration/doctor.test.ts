import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubectl } from '../../devenv/kubectl.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';

const run = promisify(execFile);
const cp = testControlPlane();

async function doctor(args: string[]): Promise<{ code: number; stdout: string }> {
  const node = join(process.cwd(), 'node_modules', '.bin', 'node');
  try {
    const { stdout } = await run(node, [
      'src/main.ts',
      'doctor',
      '--kubeconfig',
      cp.kubeconfigPath,
      ...args,
    ]);
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout + e.stderr };
  }
}

describe('rrsa-operator doctor (real apiserver)', () => {
  it('explains an unlabelled namespace, a missing annotation and a missing webhook, exit 1', async () => {
    const ns = await createNamespace(cp, 'doctor');
    await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', 'app', '-n', ns]);
    await kubectl(cp.kubeconfigPath, [
      'run',
      'app',
      '-n',
      ns,
      '--image=busybox',
      '--overrides',
      JSON.stringify({ spec: { serviceAccountName: 'app' } }),
    ]);
    const result = await doctor(['--namespace', ns, '--pod', 'app']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `[FAIL] namespace: neither namespace ${ns} nor the pod has the label`,
    );
    expect(result.stdout).toContain(
      `fix: kubectl label namespace ${ns} pod-identity.alibabacloud.com/injection=on`,
    );
    expect(result.stdout).toContain(
      '[FAIL] serviceaccount: ServiceAccount app has no pod-identity.alibabacloud.com/role-name',
    );
    expect(result.stdout).toContain('[FAIL] pod: pod app has no ALIBABA_CLOUD_ROLE_ARN');
  });

  it('spots a pod created before its ServiceAccount was annotated', async () => {
    const ns = await createNamespace(cp, 'doctor', {
      'pod-identity.alibabacloud.com/injection': 'on',
    });
    await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', 'app', '-n', ns]);
    await kubectl(cp.kubeconfigPath, [
      'run',
      'old',
      '-n',
      ns,
      '--image=busybox',
      '--overrides',
      JSON.stringify({ spec: { serviceAccountName: 'app' } }),
    ]);
    await new Promise((r) => setTimeout(r, 1100)); // timestamps have 1 s resolution
    await kubectl(cp.kubeconfigPath, [
      'annotate',
      'serviceaccount',
      'app',
      '-n',
      ns,
      'pod-identity.alibabacloud.com/role-name=my-role',
    ]);
    // A binding that became Ready after the pod was created (the status the controller writes).
    await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'rrsa.dev/v1alpha1',
        kind: 'PodIdentityBinding',
        metadata: { name: 'app', namespace: ns },
        spec: { serviceAccountName: 'app', role: { name: 'my-role' } },
      }),
    });
    const readyAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await kubectl(cp.kubeconfigPath, [
      'patch',
      'pib',
      'app',
      '-n',
      ns,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          observedGeneration: 1,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'Bound',
              message: 'bound',
              lastTransitionTime: readyAt,
            },
          ],
        },
      }),
    ]);
    const result = await doctor([`--namespace=${ns}`, '--pod=old']);
    expect(result.stdout).toContain(
      `[ok]   namespace: namespace ${ns} has pod-identity.alibabacloud.com/injection=on`,
    );
    expect(result.stdout).toContain('[ok]   serviceaccount: ServiceAccount app names role my-role');
    expect(result.stdout).toMatch(
      /pod old was created \(.*\) before its ServiceAccount was annotated/,
    );
    expect(result.stdout).toContain('fix: restart it');
  });

  it('rejects bad usage with exit code 2', async () => {
    const result = await doctor(['--pod', 'x']);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('--namespace is required');
  });
});
