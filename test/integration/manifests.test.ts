import { kubectl } from '../../devenv/kubectl.ts';
import { testControlPlane } from '../support/cluster.ts';

const cp = testControlPlane();

async function render(dir: string): Promise<string> {
  return (await kubectl(cp.kubeconfigPath, ['kustomize', dir])).stdout;
}

/** Creates the namespaces a rendering declares (for real), so namespaced objects can be checked. */
async function ensureNamespaces(rendered: string): Promise<void> {
  const names = [
    ...rendered.matchAll(/^kind: Namespace\nmetadata:\n(?:\s+.*\n)*?\s+name: (\S+)/gm),
  ].map((m) => m[1]!);
  for (const name of ['rrsa-system', ...names]) {
    const yaml = (
      await kubectl(cp.kubeconfigPath, [
        'create',
        'namespace',
        name,
        '--dry-run=client',
        '-o',
        'yaml',
      ])
    ).stdout;
    await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], { input: yaml });
  }
}

describe('config/ kustomizations', () => {
  it.each([
    'config/default',
    'config/crd',
    'config/rbac',
    'config/manager',
    'config/webhook',
    'config/samples',
    'config/pod-restart',
  ])(
    '%s renders and every object is accepted by the real apiserver (server-side dry run)',
    async (dir) => {
      const rendered = await render(dir);
      expect(rendered).toContain('kind:');
      await ensureNamespaces(rendered);
      // The CRD is installed by the global setup, so samples validate against the real schema.
      const { stdout } = await kubectl(
        cp.kubeconfigPath,
        ['apply', '--dry-run=server', '--validate=strict', '-f', '-'],
        { input: rendered },
      );
      const objects = rendered.split(/^---$/m).length;
      expect(stdout.trim().split('\n')).toHaveLength(objects);
      expect(stdout).not.toMatch(/error/i);
    },
  );

  it('config/prometheus renders a ServiceMonitor (its CRD belongs to the Prometheus Operator)', async () => {
    expect(await render('config/prometheus')).toMatch(/kind: ServiceMonitor/);
  });

  it('config/certmanager renders default with cert-manager issuing the webhook certificate', async () => {
    const rendered = await render('config/certmanager');
    expect(rendered).toMatch(/kind: Certificate/);
    expect(rendered).toContain('cert-manager.io/inject-ca-from: rrsa-system/rrsa-operator-webhook');
    expect(rendered).toMatch(/name: RRSA_WEBHOOK_CERT_MODE\n\s+value: files/);
  });

  it('the apiserver rejects an invalid sample with the field named', async () => {
    const bad = `apiVersion: rrsa.dev/v1alpha1
kind: PodIdentityBinding
metadata: {name: bad, namespace: rrsa-system}
spec:
  serviceAccountName: sa
  role: {maxSessionDuration: 100, adopt: true}
  tokenExpirationSeconds: 50
`;
    await expect(
      kubectl(cp.kubeconfigPath, ['apply', '--dry-run=server', '-f', '-'], { input: bad }),
    ).rejects.toThrow(/spec.role.maxSessionDuration.*3600[\s\S]*|spec.tokenExpirationSeconds/);
    await expect(
      kubectl(cp.kubeconfigPath, ['apply', '--dry-run=server', '-f', '-'], { input: bad }),
    ).rejects.toThrow(/role.adopt needs role.name/);
  });
});

describe('PodIdentityBinding CRD', () => {
  it('enforces immutability of serviceAccountName and role.name with CEL, naming the fix', async () => {
    const ns = `crd-${Date.now().toString(36)}`;
    await kubectl(cp.kubeconfigPath, ['create', 'namespace', ns]);
    const binding = `apiVersion: rrsa.dev/v1alpha1
kind: PodIdentityBinding
metadata: {name: b, namespace: ${ns}}
spec: {serviceAccountName: sa, role: {name: fixed-name}}
`;
    await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], { input: binding });
    const patch = async (spec: object) =>
      kubectl(cp.kubeconfigPath, [
        'patch',
        'pib',
        'b',
        '-n',
        ns,
        '--type=merge',
        '-p',
        JSON.stringify({ spec }),
      ]);
    await expect(patch({ serviceAccountName: 'other' })).rejects.toThrow(
      /serviceAccountName is immutable: create a new PodIdentityBinding/,
    );
    await expect(patch({ role: { name: 'renamed' } })).rejects.toThrow(
      /role.name cannot be added, changed or removed/,
    );
    await expect(patch({ tokenExpirationSeconds: 7200 })).resolves.toBeDefined();
    const { stdout } = await kubectl(cp.kubeconfigPath, [
      'get',
      'pib',
      'b',
      '-n',
      ns,
      '-o',
      'jsonpath={.spec.deletionPolicy}',
    ]);
    expect(stdout).toBe('Delete'); // defaulted by the schema
    await kubectl(cp.kubeconfigPath, ['delete', 'namespace', ns, '--wait=false']);
  });
});
