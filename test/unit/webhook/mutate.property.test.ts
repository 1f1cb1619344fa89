import fc from 'fast-check';
import fastJsonPatch from 'fast-json-patch';
import { defaultInjectionConfig } from '../../../src/webhook/config.ts';
import {
  ENV_OIDC_TOKEN_FILE,
  ENV_ROLE_ARN,
  INJECTION_LABEL,
  ONLY_CONTAINERS_ANNOTATION,
  OVERRIDE_ENV_KEY,
  ROLE_NAME_ANNOTATION,
  SKIP_CONTAINERS_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
  TOKEN_MOUNT_PATH,
  TOKEN_VOLUME_NAME,
} from '../../../src/webhook/constants.ts';
import { mutatePod } from '../../../src/webhook/mutate.ts';
import type { Container, JsonPatchOp, Pod, Volume } from '../../../src/webhook/types.ts';

// Pod shapes a user could plausibly submit, including the awkward ones: our env names already
// set (equal or different, value or valueFrom), our volume or another one at our mount path,
// env/volumeMounts/volumes absent, empty or null, only/skip lists naming real and unknown
// containers, odd expiration strings.

const ENV_NAMES = [ENV_ROLE_ARN, ENV_OIDC_TOKEN_FILE, 'ALIBABA_CLOUD_STS_REGION', 'LOG_LEVEL', 'A'];

const envEntry = fc.record({
  name: fc.constantFrom(...ENV_NAMES),
  value: fc.constantFrom(
    'x',
    'cn-hangzhou',
    '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token',
  ),
});

const mount = fc.oneof(
  fc.constant({ name: TOKEN_VOLUME_NAME, mountPath: TOKEN_MOUNT_PATH, readOnly: true }),
  fc.constant({ name: 'mine', mountPath: `${TOKEN_MOUNT_PATH}/` }),
  fc.constant({ name: 'cache', mountPath: '/cache' }),
  fc.constant({ name: TOKEN_VOLUME_NAME, mountPath: '/elsewhere' }),
);

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)));
}

// A list field in one of its shapes: absent, null, empty or filled (unique by name and path).
function listField<T>(
  item: fc.Arbitrary<T>,
  key: (item: T) => string,
): fc.Arbitrary<T[] | null | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.array(item, { maxLength: 4 }).map((items) => uniqueBy(items, key)),
  );
}

const containerBody = fc.record(
  {
    env: listField(envEntry, (e) => e.name),
    volumeMounts: listField(mount, (m) => m.name).map((mounts) =>
      Array.isArray(mounts) ? uniqueBy(mounts, (m) => m.mountPath.replace(/\/$/, '')) : mounts,
    ),
    restartPolicy: fc.constantFrom(undefined, 'Always'),
    futureField: fc.constantFrom(undefined, { keep: [1, 'two'] }),
  },
  { requiredKeys: [] },
);

const volume: fc.Arbitrary<Volume> = fc.oneof(
  fc.constant<Volume>({
    name: TOKEN_VOLUME_NAME,
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
  }),
  fc.constant({ name: TOKEN_VOLUME_NAME, emptyDir: {} } as Volume),
  fc.constant({ name: 'cache', emptyDir: {} } as Volume),
  fc.constant({ name: 'mine', secret: { secretName: 'mine' } } as Volume),
);

const VOLUME_FOR_MOUNT: Record<string, Volume> = {
  [TOKEN_VOLUME_NAME]: { name: TOKEN_VOLUME_NAME, emptyDir: {} } as Volume,
  mine: { name: 'mine', secret: { secretName: 'mine' } } as Volume,
  cache: { name: 'cache', emptyDir: {} } as Volume,
};

// The API server rejects a mount without its volume, so generated pods always carry one.
function withMountedVolumes(
  volumes: Volume[] | null | undefined,
  containers: Container[],
): Volume[] | null | undefined {
  const mounted = new Set(containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  const missing = [...mounted].filter((name) => !volumes?.some((v) => v.name === name));
  if (missing.length === 0) return volumes;
  return [...(volumes ?? []), ...missing.map((name) => VOLUME_FOR_MOUNT[name]!)];
}

const NAMES = ['app', 'envoy', 'init', 'sidecar', 'job'];

const podShape = fc
  .record({
    containers: fc.array(containerBody, { minLength: 1, maxLength: 3 }),
    initContainers: fc.option(fc.array(containerBody, { maxLength: 2 }), { nil: undefined }),
    volumes: listField(volume, (v) => v.name),
    only: fc.option(fc.subarray([...NAMES, 'typo']), { nil: undefined }),
    skip: fc.option(fc.subarray([...NAMES, 'typo']), { nil: undefined }),
    expiration: fc.option(
      fc.constantFrom('600', '7200', 'abc', '599', '43201', '3600.5', ' 900 '),
      {
        nil: undefined,
      },
    ),
    override: fc.constantFrom(undefined, 'true', 'false'),
    podLabel: fc.constantFrom(undefined, 'on', 'off'),
  })
  .map((shape): Pod => {
    let next = 0;
    const named = (body: object): Container =>
      ({ name: NAMES[next++] ?? `c${next}`, image: 'img', ...body }) as Container;
    const annotations: Record<string, string> = {};
    if (shape.only) annotations[ONLY_CONTAINERS_ANNOTATION] = shape.only.join(' , ');
    if (shape.skip) annotations[SKIP_CONTAINERS_ANNOTATION] = shape.skip.join(',');
    if (shape.expiration) annotations[TOKEN_EXPIRATION_ANNOTATION] = shape.expiration;
    if (shape.override) annotations[OVERRIDE_ENV_KEY] = shape.override;
    const containers = shape.containers.map(named);
    const initContainers = shape.initContainers?.map(named);
    const spec: Record<string, unknown> = {
      serviceAccountName: 'demo-sa',
      initContainers,
      containers,
      volumes: withMountedVolumes(shape.volumes, [...(initContainers ?? []), ...containers]),
    };
    for (const key of Object.keys(spec)) if (spec[key] === undefined) delete spec[key];
    return {
      metadata: {
        name: 'p',
        namespace: 'ns',
        annotations,
        ...(shape.podLabel ? { labels: { [INJECTION_LABEL]: shape.podLabel } } : {}),
      },
      spec: spec,
    };
  });

const config = defaultInjectionConfig({
  accountId: '1234567890123456',
  clusterId: 'c1',
  stsEnv: { enabled: true, region: 'cn-hangzhou', vpcEndpoint: true },
});
const namespace = { metadata: { name: 'ns', labels: { [INJECTION_LABEL]: 'on' } } };
const serviceAccount = {
  metadata: { name: 'demo-sa', namespace: 'ns', annotations: { [ROLE_NAME_ANNOTATION]: 'demo' } },
};

function apply(pod: Pod, patch: JsonPatchOp[]): Pod {
  return fastJsonPatch.applyPatch(structuredClone(pod), patch, true, false).newDocument;
}

function duplicates(names: string[]): string[] {
  return names.filter((name, i) => names.indexOf(name) !== i);
}

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

describe('mutatePod properties', () => {
  it('applies cleanly, never duplicates a name or path, and is idempotent', () => {
    fc.assert(
      fc.property(podShape, (pod) => {
        const first = mutatePod(pod, serviceAccount, namespace, config);
        const mutated = apply(pod, first.patch);

        expect(duplicates((mutated.spec?.volumes ?? []).map((v) => v.name))).toEqual([]);
        for (const container of allContainers(mutated)) {
          expect(duplicates((container.env ?? []).map((e) => e.name))).toEqual([]);
          const mounts = container.volumeMounts ?? [];
          expect(duplicates(mounts.map((m) => m.name))).toEqual([]);
          expect(duplicates(mounts.map((m) => m.mountPath.replace(/\/$/, '')))).toEqual([]);
          // Once injected, a mount of our volume always has the volume to go with it.
          if (mounts.some((m) => m.name === TOKEN_VOLUME_NAME)) {
            expect(mutated.spec?.volumes?.some((v) => v.name === TOKEN_VOLUME_NAME)).toBe(true);
          }
        }
        // Unknown fields survive on every container.
        allContainers(pod).forEach((container, i) => {
          const after = allContainers(mutated)[i] as unknown as Record<string, unknown>;
          for (const [key, value] of Object.entries(container)) {
            if (key !== 'env' && key !== 'volumeMounts') expect(after[key]).toEqual(value);
          }
        });

        const second = mutatePod(mutated, serviceAccount, namespace, config);
        expect(second.patch).toEqual([]);
        expect(apply(mutated, second.patch)).toEqual(mutated);
      }),
      { numRuns: 500 },
    );
  });

  it('gives every selected container every injected variable, or keeps the user value', () => {
    fc.assert(
      fc.property(podShape, (pod) => {
        const result = mutatePod(pod, serviceAccount, namespace, config);
        if (result.outcome !== 'Injected') return;
        const mutated = apply(pod, result.patch);
        const touched = new Set(
          result.patch
            .map((op) => /^\/spec\/(containers|initContainers)\/(\d+)\//.exec(op.path))
            .filter((m) => m !== null)
            .map((m) => `${m[1]}/${m[2]}`),
        );
        for (const key of touched) {
          const [field, index] = key.split('/') as ['containers' | 'initContainers', string];
          const env = mutated.spec![field]![Number(index)]!.env ?? [];
          expect(env.map((e) => e.name)).toEqual(
            expect.arrayContaining([ENV_ROLE_ARN, ENV_OIDC_TOKEN_FILE]),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
