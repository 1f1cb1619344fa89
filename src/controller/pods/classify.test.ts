import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastJsonPatch from 'fast-json-patch';
import { parse } from 'yaml';
import { projectPod, type RawPod } from '../../kube/pod-view.ts';
import { defaultInjectionConfig, type InjectionConfig } from '../../webhook/config.ts';
import { mutatePod } from '../../webhook/mutate.ts';
import type { Namespace, Pod, ServiceAccount } from '../../webhook/types.ts';
import { classifyPod } from './classify.ts';

const config = defaultInjectionConfig({
  accountId: '1234567890123456',
  clusterId: 'c1',
  stsEnv: { enabled: true, region: 'cn-hangzhou', vpcEndpoint: true },
});
const ROLE = 'acs:ram::1234567890123456:role/app-role';
const PROVIDER = 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1';

const namespace = (labels: Record<string, string> = {}): Namespace => ({
  metadata: {
    name: 'team-a',
    labels: { 'pod-identity.alibabacloud.com/injection': 'on', ...labels },
  },
});
const serviceAccount = (role: string | null = 'app-role'): ServiceAccount => ({
  metadata: {
    name: 'app-sa',
    namespace: 'team-a',
    annotations: role ? { 'pod-identity.alibabacloud.com/role-name': role } : {},
  },
});

function rawPod(
  fields: {
    containers?: unknown[];
    volumes?: unknown[];
    labels?: Record<string, string>;
    phase?: string;
  } = {},
): RawPod {
  return {
    metadata: {
      name: 'web-1',
      namespace: 'team-a',
      uid: 'u1',
      resourceVersion: '1',
      labels: fields.labels ?? {},
    },
    spec: {
      serviceAccountName: 'app-sa',
      containers: (fields.containers ?? [{ name: 'app', image: 'x' }]) as never,
      volumes: (fields.volumes ?? []) as never,
    },
    status: { phase: fields.phase ?? 'Running' },
  };
}

/** The pod as the webhook admits it now. */
function admitted(raw: RawPod, sa = serviceAccount(), ns = namespace()): RawPod {
  const result = mutatePod(raw, sa, ns, config);
  return fastJsonPatch.applyPatch(structuredClone(raw), result.patch, true, false).newDocument;
}

describe('classifyPod: a pod against what the webhook would inject now', () => {
  it('a pod the webhook just admitted is current', () => {
    const pod = projectPod(admitted(rawPod()));
    expect(classifyPod(pod, serviceAccount(), namespace(), config)).toEqual({
      state: 'current',
      expected: { roleArn: ROLE, oidcProviderArn: PROVIDER },
    });
  });

  it('a pod created before the wiring (no env, no volume) is stale: not injected', () => {
    const verdict = classifyPod(projectPod(rawPod()), serviceAccount(), namespace(), config);
    expect(verdict).toMatchObject({ state: 'stale', why: 'app: not injected' });
  });

  it('a pod injected for an earlier role is stale and names both ARNs', () => {
    const before = projectPod(admitted(rawPod(), serviceAccount('old-role')));
    const verdict = classifyPod(before, serviceAccount('app-role'), namespace(), config);
    expect(verdict).toMatchObject({
      state: 'stale',
      why: `app: role acs:ram::1234567890123456:role/old-role, now ${ROLE}`,
    });
  });

  it('a pod injected with another OIDC provider is stale', () => {
    const other = { ...config, oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/old' };
    const pod = projectPod(
      fastJsonPatch.applyPatch(
        rawPod(),
        mutatePod(rawPod() as Pod, serviceAccount(), namespace(), other).patch,
        true,
        false,
      ).newDocument,
    );
    expect(classifyPod(pod, serviceAccount(), namespace(), config)).toMatchObject({
      state: 'stale',
      why: `app: OIDC provider acs:ram::1234567890123456:oidc-provider/old, now ${PROVIDER}`,
    });
  });

  it('env without the token volume is stale (the token file would not exist)', () => {
    const injected = admitted(rawPod());
    injected.spec!.volumes = [];
    injected.spec!.containers![0]!.volumeMounts = [];
    expect(classifyPod(projectPod(injected), serviceAccount(), namespace(), config)).toMatchObject({
      state: 'stale',
      why: 'token volume or mount missing',
    });
  });

  it('judges only the identity env: no STS env vars (ACK before 0.4) is still current', () => {
    const injected = admitted(rawPod());
    const container = injected.spec!.containers![0]!;
    container.env = container.env!.filter(
      (e) =>
        !e.name.startsWith('ALIBABA_CLOUD_STS') && e.name !== 'ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED',
    );
    expect(classifyPod(projectPod(injected), serviceAccount(), namespace(), config).state).toBe(
      'current',
    );
  });

  it('no injection expected (namespace not opted in, no role annotation) and none carried: current', () => {
    const pod = projectPod(rawPod());
    expect(
      classifyPod(
        pod,
        serviceAccount(),
        namespace({ 'pod-identity.alibabacloud.com/injection': 'off' }),
        config,
      ).state,
    ).toBe('current');
    expect(classifyPod(pod, serviceAccount(null), namespace(), config).state).toBe('current');
  });

  it('a role carried that the webhook would no longer inject is stale, with the outcome', () => {
    const pod = projectPod(admitted(rawPod()));
    expect(classifyPod(pod, serviceAccount(null), namespace(), config)).toMatchObject({
      state: 'stale',
      why: `carries role ${ROLE}, which the webhook no longer injects (NoRoleAnnotation)`,
      expected: undefined,
    });
  });

  it('follows skip-containers: a skipped container without env does not make the pod stale', () => {
    const raw = rawPod({ containers: [{ name: 'app' }, { name: 'proxy' }] });
    raw.metadata!.annotations = { 'pod-identity.alibabacloud.com/skip-containers': 'proxy' };
    const pod = projectPod(admitted(raw));
    expect(pod.spec.containers[1]!.env).toBeUndefined();
    expect(classifyPod(pod, serviceAccount(), namespace(), config).state).toBe('current');
  });

  it('finished and terminating pods are ignored', () => {
    expect(
      classifyPod(projectPod(rawPod({ phase: 'Succeeded' })), serviceAccount(), namespace(), config)
        .state,
    ).toBe('ignored');
    const terminating = rawPod();
    terminating.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(classifyPod(projectPod(terminating), serviceAccount(), namespace(), config).state).toBe(
      'ignored',
    );
  });
});

// Every webhook fixture that injects without a warning: the admitted pod, cut down to the cached
// projection, is current; the pod as it was before admission is stale. Ties the classification
// to the webhook's contract case by case.
describe('classifyPod over the webhook fixtures', () => {
  const dir = join(process.cwd(), 'test/fixtures/webhook');
  const base = parse(readFileSync(join(dir, '_base.yaml'), 'utf8')) as {
    config: InjectionConfig;
    namespace: Namespace;
    serviceAccount: ServiceAccount;
  };
  const cases = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('_'))
    .map((file) => ({
      file,
      fixture: parse(readFileSync(join(dir, file), 'utf8')) as {
        pod: Pod;
        config?: unknown;
        namespace?: Namespace | null;
        serviceAccount?: ServiceAccount | null;
      },
    }))
    .filter(
      ({ fixture }) =>
        fixture.config === undefined &&
        fixture.namespace === undefined &&
        fixture.serviceAccount === undefined,
    )
    .filter(({ fixture }) => {
      const result = mutatePod(fixture.pod, base.serviceAccount, base.namespace, base.config);
      return result.outcome === 'Injected' && result.warnings.length === 0;
    });

  it('finds injecting fixtures', () => expect(cases.length).toBeGreaterThan(3));

  it.each(cases.map((c) => [c.file, c.fixture.pod] as const))(
    '%s: admitted is current',
    (_file, pod) => {
      const result = mutatePod(pod, base.serviceAccount, base.namespace, base.config);
      const after = fastJsonPatch.applyPatch(
        structuredClone(pod),
        result.patch,
        true,
        false,
      ).newDocument;
      expect(
        classifyPod(projectPod(after as RawPod), base.serviceAccount, base.namespace, base.config)
          .state,
      ).toBe('current');
      expect(
        classifyPod(projectPod(pod as RawPod), base.serviceAccount, base.namespace, base.config)
          .state,
      ).toBe('stale');
    },
  );
});
