import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { kubectl } from '../../devenv/kubectl.ts';
import { FINALIZER } from '../../src/api/types.ts';
import { computeStatus, type Outcome } from '../../src/controller/status.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';
import { bindingFixture } from '../support/fakes.ts';
import { eventually, startOperatorEnv, type OperatorEnv } from '../support/operator-env.ts';

const run = promisify(execFile);
const cp = testControlPlane();
const HEALTH_DIR = join(process.cwd(), 'config', 'argocd', 'rrsa.dev', 'PodIdentityBinding');
let env: OperatorEnv;
let gitopsCheck: string;

interface Verdict {
  status: string;
  message: string;
}

async function verdicts(mode: string[], objects: object[], bin = gitopsCheck): Promise<Verdict[]> {
  const child = run(bin, mode, { maxBuffer: 8 << 20 });
  child.child.stdin!.end(JSON.stringify(objects));
  return JSON.parse((await child).stdout) as Verdict[];
}

async function capture(ns: string, name: string): Promise<Record<string, unknown>> {
  const { stdout } = await kubectl(cp.kubeconfigPath, ['get', 'pib', name, '-n', ns, '-o', 'json']);
  const object = JSON.parse(stdout) as { metadata: Record<string, unknown> };
  // Keep the fixtures stable and small: drop server-assigned noise, keep what health reads.
  for (const key of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'finalizers'])
    delete object.metadata[key];
  object.metadata.namespace = 'team-a';
  return object;
}

async function until(ns: string, name: string, reason: string): Promise<void> {
  await eventually(`${name} ${reason}`, async () => {
    const b = await capture(ns, name);
    const status = b.status as { conditions?: { type: string; reason: string }[] } | undefined;
    return status?.conditions?.find((c) => c.type === 'Ready')?.reason === reason
      ? true
      : undefined;
  });
}

/** One binding per reason the controller reports, with the status computeStatus writes. */
function reasonTable(): { table: [string, Partial<Outcome>][]; objects: object[] } {
  // Each reason with the flags its outcome carries in src/controller (reconciler, decide,
  // finalize): ready, waiting (fixes itself, no retry), retrying (cloud) or stalled (spec).
  const table: [string, Partial<Outcome>][] = [
    ['Bound', { ready: true }],
    ['ServiceAccountNotFound', {}],
    ['CloudRetrying', { reconciling: true }],
    ['CloudPermissionDenied', { reconciling: true }],
    ['InvalidSpec', { stalled: true }],
    ['GuardrailViolation', { stalled: true }],
    ['ServiceAccountConflict', { stalled: true }],
    ['RoleNotFound', { stalled: true }],
    ['RoleOwnedByAnotherBinding', { stalled: true }],
    ['RoleAlreadyExists', { stalled: true }],
    ['RoleRetainedByDeletedBinding', { stalled: true }],
    ['InlinePolicyNotOwned', { stalled: true }],
    ['PolicyNotFound', { stalled: true }],
    ['NamespaceTerminating', {}],
    ['MalformedTrustPolicy', { stalled: true }],
    ['TooManyPoliciesForAdoptedRole', { stalled: true }],
    ['CloudRequestRejected', { stalled: true }],
  ];
  const objects = table.map(([reason, flags]) => {
    const binding = bindingFixture();
    const status = computeStatus(
      binding,
      {
        ready: false,
        stalled: false,
        reconciling: false,
        details: {},
        reason,
        message: reason,
        ...flags,
      },
      new Date('2026-06-01T00:00:00Z'),
    );
    return { ...binding, status };
  });
  return { table, objects };
}

beforeAll(async () => {
  gitopsCheck = (await run('bash', ['hack/gitops/build.sh'])).stdout.trim();
  env = await startOperatorEnv();
}, 600_000);
afterAll(async () => env?.stop());

describe('GitOps health of PodIdentityBinding status written by the controller', () => {
  it('Flux kstatus and the Argo CD health.lua agree: Current/Healthy, InProgress/Progressing, Failed/Degraded', async () => {
    const ns = await createNamespace(cp, 'gitops');
    const apply = (name: string, spec: object) =>
      kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'rrsa.dev/v1alpha1',
          kind: 'PodIdentityBinding',
          metadata: { name, namespace: ns, labels: env.labels },
          spec,
        }),
      });
    await apply('ready', { serviceAccountName: 'ready', createServiceAccount: true });
    await apply('waiting', { serviceAccountName: 'not-created-yet' });
    await apply('denied', {
      serviceAccountName: 'x',
      role: { policies: [{ type: 'System', name: 'AdministratorAccess' }] },
    });
    await until(ns, 'ready', 'Bound');
    await until(ns, 'waiting', 'ServiceAccountNotFound');
    await until(ns, 'denied', 'GuardrailViolation');
    const healthy = await capture(ns, 'ready');
    // observedGeneration behind: the spec changes while the controller is down.
    await env.controller.stop();
    await kubectl(cp.kubeconfigPath, [
      'patch',
      'pib',
      'ready',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"tokenExpirationSeconds":7200}}',
    ]);
    const cases = {
      healthy,
      'progressing-generation': await capture(ns, 'ready'),
      'progressing-serviceaccount': await capture(ns, 'waiting'),
      degraded: await capture(ns, 'denied'),
    };
    await env.restartController();
    const objects = Object.values(cases);
    const flux = await verdicts(['kstatus'], objects);
    const argo = await verdicts(['argo-health', join(HEALTH_DIR, 'health.lua')], objects);
    expect(flux.map((v) => v.status)).toEqual(['Current', 'InProgress', 'InProgress', 'Failed']);
    expect(argo.map((v) => v.status)).toEqual([
      'Healthy',
      'Progressing',
      'Progressing',
      'Degraded',
    ]);
    expect(argo[3]!.message).toContain(
      'GuardrailViolation: spec.role.policies[0]: policy System:AdministratorAccess is denied',
    );
    expect(argo[1]!.message).toBe('Waiting for the operator to observe generation 2');
    if (process.env.RRSA_WRITE_TESTDATA === '1')
      for (const [name, object] of Object.entries(cases))
        await writeFile(join(HEALTH_DIR, 'testdata', `${name}.yaml`), stringify(object));
  });

  it('a binding no operator has reconciled yet is in progress, not Current (status defaults to observedGeneration 0)', async () => {
    const ns = await createNamespace(cp, 'gitops-unseen');
    // No env label: no operator selects it, as in the moment between a GitOps apply and the
    // operator's first status write.
    await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'rrsa.dev/v1alpha1',
        kind: 'PodIdentityBinding',
        metadata: { name: 'unseen', namespace: ns },
        spec: { serviceAccountName: 'unseen' },
      }),
    });
    const unseen = await capture(ns, 'unseen');
    expect(unseen.status).toEqual({ observedGeneration: 0 });
    const [flux] = await verdicts(['kstatus'], [unseen]);
    expect(flux!.status).toBe('InProgress');
    const [argo] = await verdicts(['argo-health', join(HEALTH_DIR, 'health.lua')], [unseen]);
    expect(argo).toEqual({
      status: 'Progressing',
      message: 'Waiting for the operator to observe generation 1',
    });
  });

  it('agree on every reason the controller reports (statuses built by computeStatus)', async () => {
    const { table, objects } = reasonTable();
    const flux = await verdicts(['kstatus'], objects);
    const argo = await verdicts(['argo-health', join(HEALTH_DIR, 'health.lua')], objects);
    const expected = table.map(([, f]) => (f.ready ? 'ready' : f.stalled ? 'stalled' : 'progress'));
    const fluxFor = { ready: 'Current', progress: 'InProgress', stalled: 'Failed' };
    const argoFor = { ready: 'Healthy', progress: 'Progressing', stalled: 'Degraded' };
    expect(table.map(([r], i) => `${r}: ${flux[i]!.status}`)).toEqual(
      table.map(([r], i) => `${r}: ${fluxFor[expected[i]!]}`),
    );
    expect(table.map(([r], i) => `${r}: ${argo[i]!.status}`)).toEqual(
      table.map(([r], i) => `${r}: ${argoFor[expected[i]!]}`),
    );
  });

  it("runs Argo CD's health_test.yaml cases (objects captured from the real apiserver)", async () => {
    const spec = parse(await readFile(join(HEALTH_DIR, 'health_test.yaml'), 'utf8')) as {
      tests: { healthStatus: Verdict; inputPath: string }[];
    };
    expect(spec.tests.length).toBeGreaterThanOrEqual(4);
    const objects = await Promise.all(
      spec.tests.map(
        async (t) => parse(await readFile(join(HEALTH_DIR, t.inputPath), 'utf8')) as object,
      ),
    );
    const argo = await verdicts(['argo-health', join(HEALTH_DIR, 'health.lua')], objects);
    expect(argo).toEqual(spec.tests.map((t) => t.healthStatus));
  });
});

// Not a re-implementation this time: Argo CD's own code (github.com/argoproj/argo-cd/v3, built by
// hack/argocd/build.sh). argocd-cm is written the way README's GitOps section says; it goes through
// util/settings (as `argocd admin settings resource-overrides health --argocd-cm-path` does
// offline) and each object through gitops-engine's health.GetResourceHealth with util/lua's
// overrides, as the application controller assesses live resources.
describe("Argo CD's own health assessment with config/argocd's health.lua", () => {
  let argocdHealth: string;
  let cmPath: string;
  let tmp: string;
  const argo = (objects: object[]) => verdicts([cmPath], objects, argocdHealth);

  beforeAll(async () => {
    // A cold build of argo-cd's util packages takes minutes on 2 cores; warm, a cache hit.
    argocdHealth = (
      await run('bash', ['hack/argocd/build.sh'], { maxBuffer: 8 << 20 })
    ).stdout.trim();
    tmp = await mkdtemp(join(tmpdir(), 'rrsa-argocd-'));
    cmPath = join(tmp, 'argocd-cm.yaml');
    await writeFile(
      cmPath,
      stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'argocd-cm', namespace: 'argocd' },
        data: {
          'resource.customizations.health.rrsa.dev_PodIdentityBinding': await readFile(
            join(HEALTH_DIR, 'health.lua'),
            'utf8',
          ),
        },
      }),
    );
  }, 1_800_000);
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('gives the verdicts of health_test.yaml for the captured binding states', async () => {
    const spec = parse(await readFile(join(HEALTH_DIR, 'health_test.yaml'), 'utf8')) as {
      tests: { healthStatus: Verdict; inputPath: string }[];
    };
    const objects = await Promise.all(
      spec.tests.map(
        async (t) => parse(await readFile(join(HEALTH_DIR, t.inputPath), 'utf8')) as object,
      ),
    );
    expect(await argo(objects)).toEqual(spec.tests.map((t) => t.healthStatus));
  });

  it('agrees with the gopher-lua check on every reason the controller reports', async () => {
    const { objects } = reasonTable();
    const real = await argo(objects);
    expect(real).toEqual(await verdicts(['argo-health', join(HEALTH_DIR, 'health.lua')], objects));
    expect(new Set(real.map((v) => v.status))).toEqual(
      new Set(['Healthy', 'Progressing', 'Degraded']),
    );
  });

  it('adds what Argo CD itself does around the script: no status yet, and deletion', async () => {
    const [fresh] = reasonTable().objects as Record<string, unknown>[];
    const noStatus = { ...fresh };
    delete noStatus.status;
    const deleting = {
      ...fresh,
      metadata: {
        ...(fresh!.metadata as object),
        deletionTimestamp: '2026-06-01T00:00:00Z',
        finalizers: [FINALIZER],
      },
    };
    expect(await argo([noStatus, deleting])).toEqual([
      { status: 'Progressing', message: 'Waiting for the operator to observe the binding' },
      { status: 'Progressing', message: `Pending deletion; blocked by finalizers: ${FINALIZER}` },
    ]);
  });
});
