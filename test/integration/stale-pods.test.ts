import { startTestWebhook } from '../support/test-webhook.ts';
import type { PodIdentityBinding } from '../../src/api/types.ts';
import { uninstallWebhook, waitForInjection } from '../../devenv/webhook.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { type PodIdentityWebhook } from '../../src/kube/webhook-wiring.ts';
import {
  RESTARTED_AT_ANNOTATION,
  RESTARTED_FOR_ANNOTATION,
} from '../../src/controller/pods/restart-plan.ts';
import { testControlPlane, uniqueName } from '../support/cluster.ts';
import { eventually, startOperatorEnv, type OperatorEnv } from '../support/operator-env.ts';

// Issue 15 B on the real control plane: kube-controller-manager turns a Deployment into a
// ReplicaSet and pods (Pending: there is no kubelet, which is fine, they exist as API objects),
// the apiserver calls the webhook for them, and the controller runs with exactly config/rbac plus
// the opt-in config/pod-restart.
jest.setTimeout(120_000);

const cp = testControlPlane();
const RUN_LABEL = 'rrsa-stale-pods-test';
const run = uniqueName('run');
const webhookName = uniqueName('rrsa-stale-pods');
const namespaces: string[] = [];
let env: OperatorEnv;
let webhook: PodIdentityWebhook;
/** Every GET the controllers sent, by path (counted at their REST clients). */
const gets: string[] = [];

const k = async (args: string[], input?: string): Promise<string> =>
  (await kubectl(cp.kubeconfigPath, args, input === undefined ? {} : { input })).stdout;

async function newNamespace(prefix: string, inject: boolean): Promise<string> {
  const name = uniqueName(prefix);
  namespaces.push(name);
  const labels: Record<string, string> = { [RUN_LABEL]: run };
  if (inject) labels['pod-identity.alibabacloud.com/injection'] = 'on';
  await k(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }),
  );
  return name;
}

async function binding(ns: string): Promise<PodIdentityBinding> {
  return JSON.parse(await k(['get', 'pib', 'web', '-n', ns, '-o', 'json'])) as PodIdentityBinding;
}

async function deployment(ns: string): Promise<{
  metadata: { annotations?: Record<string, string> };
  spec: { template: { metadata?: { annotations?: Record<string, string> } } };
}> {
  return JSON.parse(await k(['get', 'deployment', 'web', '-n', ns, '-o', 'json'])) as never;
}

beforeAll(async () => {
  env = await startOperatorEnv({
    resyncMs: 3000,
    podChecks: { allowPodRestart: true },
    onRest: (rest) => {
      const get = rest.get.bind(rest);
      rest.get = <T>(path: string, options?: Parameters<typeof get>[1]): Promise<T> => {
        gets.push(path);
        return get<T>(path, options);
      };
    },
  });
  await k(['apply', '-k', 'config/pod-restart']);
  const operatorNs = await newNamespace('rrsa-sp-operator', false);
  webhook = await startTestWebhook({
    kubeconfigPath: cp.kubeconfigPath,
    webhookName,
    namespaceLabels: { [RUN_LABEL]: run },
    operatorNamespace: operatorNs,
    injection: env.injection,
  });
  const probeNs = await newNamespace('rrsa-sp-probe', true);
  await k(['create', 'serviceaccount', 'probe', '-n', probeNs]);
  await k([
    'annotate',
    'serviceaccount',
    'probe',
    '-n',
    probeNs,
    'pod-identity.alibabacloud.com/role-name=probe',
  ]);
  await waitForInjection(cp.kubeconfigPath, { namespace: probeNs, serviceAccountName: 'probe' });
});

afterAll(async () => {
  await uninstallWebhook(cp.kubeconfigPath, webhookName);
  if (namespaces.length > 0) await k(['delete', 'namespace', ...namespaces, '--wait=false']);
  await webhook?.stop();
  await env?.stop();
});

describe('pods running with a stale identity (real control plane + emulator)', () => {
  it('reports pods created before the binding, restarts their Deployment once when opted in, and reports the new pods current', async () => {
    const ns = await newNamespace('rrsa-sp', true);
    await k(['create', 'serviceaccount', 'web', '-n', ns]);
    // Before any binding: the ServiceAccount names no role, so the webhook injects nothing.
    await k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns },
        spec: {
          replicas: 1,
          // Recreate: the old (unscheduled, so deleted at once) pod goes before the new one comes.
          strategy: { type: 'Recreate' },
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { serviceAccountName: 'web', containers: [{ name: 'app', image: 'app:1' }] },
          },
        },
      }),
    );
    await k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'lonely', namespace: ns },
        spec: { serviceAccountName: 'web', containers: [{ name: 'app', image: 'app:1' }] },
      }),
    );
    await eventually(
      'the Deployment pod',
      async () =>
        (await k(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'name'])).trim() || undefined,
    );

    const spec = { serviceAccountName: 'web' };
    await k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'rrsa.dev/v1alpha1',
        kind: 'PodIdentityBinding',
        metadata: { name: 'web', namespace: ns, labels: env.labels },
        spec,
      }),
    );
    const stale = await eventually('both pods reported stale', async () => {
      const b = await binding(ns);
      const condition = b.status?.conditions?.find((c) => c.type === 'PodsCurrent');
      return b.status?.pods?.stale === 2 && condition ? { b, condition } : undefined;
    });
    expect(stale.b.status!.pods).toEqual({ total: 2, current: 0, stale: 2 });
    expect(stale.condition).toMatchObject({ status: 'False', reason: 'StalePods' });
    expect(stale.condition.message).toContain('(Deployment/web): app: not injected');
    expect(stale.condition.message).toContain('lonely (no owner): app: not injected');
    expect(stale.condition.message).toContain('kubectl rollout restart deployment/web');
    // Ready keeps its meaning.
    expect(stale.b.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Bound',
    });
    expect(await env.metricsText()).toContain(`rrsa_stale_pods{namespace="${ns}"} 2`);
    // Nothing restarted without the opt-in.
    expect(
      (await deployment(ns)).spec.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION],
    ).toBeUndefined();

    await k([
      'patch',
      'pib',
      'web',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"restartStalePods":true}}',
    ]);
    const restarted = await eventually('the Deployment restarted', async () => {
      const d = await deployment(ns);
      const at = d.spec.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION];
      return at
        ? { at, forIdentity: d.metadata.annotations?.[RESTARTED_FOR_ANNOTATION] }
        : undefined;
    });
    expect(restarted.forIdentity).toMatch(/^[0-9a-f]{16}$/);

    const settled = await eventually(
      'the new pod current, the bare pod still stale',
      async () => {
        const b = await binding(ns);
        const pods = b.status?.pods;
        return pods?.current === 1 && pods.stale === 1 && pods.total === 2 ? b : undefined;
      },
      60_000,
    );
    const condition = settled.status!.conditions!.find((c) => c.type === 'PodsCurrent')!;
    expect(condition.reason).toBe('StalePods');
    expect(condition.message).toContain('lonely cannot be rollout-restarted');
    expect(condition.message).not.toContain('Deployment/web');
    // The bare pod is reported, never deleted.
    expect(await k(['get', 'pod', 'lonely', '-n', ns, '-o', 'name'])).toContain('pod/lonely');
    // The new pod was injected by the webhook with the binding's role.
    const podEnv = await k([
      'get',
      'pods',
      '-n',
      ns,
      '-l',
      'app=web',
      '-o',
      'jsonpath={.items[*].spec.containers[0].env[0].value}',
    ]);
    expect(podEnv).toBe(settled.status!.roleArn);

    // Resyncs (every 3 s here) and a restarted operator restart nothing again.
    await env.restartController();
    await new Promise((resolve) => setTimeout(resolve, 7000));
    const after = await deployment(ns);
    expect(after.spec.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBe(restarted.at);
    const events = await k([
      'get',
      'events',
      '-n',
      ns,
      '--field-selector',
      'involvedObject.kind=PodIdentityBinding',
      '-o',
      'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
    ]);
    expect(events.split('\n').filter((r) => r === 'WorkloadRestarted')).toHaveLength(1);
    // Every pass of the pod checks, pod verdicts and reconciles (resyncs every 3 s, with pods)
    // read the namespace from the shared cache (ADR 0020): not one GET each.
    const namespaceGets = gets.filter((path) => path === `/api/v1/namespaces/${ns}`).length;
    console.log(`namespace GETs over the test: ${namespaceGets}`);
    expect(namespaceGets).toBeLessThanOrEqual(1);
  });
});
