import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastJsonPatch from 'fast-json-patch';
import { parse } from 'yaml';
import type { InjectionConfig } from './config.ts';
import { mutatePod } from './mutate.ts';
import type { JsonPatchOp, Namespace, Pod, ServiceAccount } from './types.ts';

// One YAML file per case under test/fixtures/webhook/ (see _base.yaml for the defaults). Adding a
// case is adding a file. Every case is also applied with fast-json-patch (validating the ops
// against the raw pod) and admitted a second time, which must yield an empty patch.

const FIXTURES = join(process.cwd(), 'test/fixtures/webhook');

interface Fixture {
  description: string;
  config?: Record<string, unknown>;
  namespace?: Namespace | null;
  serviceAccount?: ServiceAccount | null;
  pod: Pod;
  expect: {
    outcome: string;
    warnings?: string[];
    patch?: JsonPatchOp[];
    patchIncludes?: JsonPatchOp[];
    pod?: Pod;
    /** Names of the containers (regular or init) whose env the patch touches, in patch order. */
    injectedContainers?: string[];
  };
}

const KNOWN_KEYS = new Set([
  'description',
  'config',
  'namespace',
  'serviceAccount',
  'pod',
  'expect',
]);

function load<T>(file: string): T {
  return parse(readFileSync(join(FIXTURES, file), 'utf8')) as T;
}

function deepMerge(base: unknown, override: unknown): unknown {
  if (
    typeof base !== 'object' ||
    base === null ||
    Array.isArray(base) ||
    typeof override !== 'object' ||
    override === null ||
    Array.isArray(override)
  ) {
    return override === undefined ? base : override;
  }
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = deepMerge(merged[key], value);
  }
  return merged;
}

const base = load<{
  config: InjectionConfig;
  namespace: Namespace;
  serviceAccount: ServiceAccount;
}>('_base.yaml');

function inputs(fixture: Fixture): {
  config: InjectionConfig;
  namespace: Namespace | undefined;
  serviceAccount: ServiceAccount | undefined;
} {
  return {
    config: deepMerge(base.config, fixture.config) as InjectionConfig,
    namespace: fixture.namespace === undefined ? base.namespace : (fixture.namespace ?? undefined),
    serviceAccount:
      fixture.serviceAccount === undefined
        ? base.serviceAccount
        : (fixture.serviceAccount ?? undefined),
  };
}

function injectedContainers(pod: Pod, patch: JsonPatchOp[]): string[] {
  const names = new Set<string>();
  for (const op of patch) {
    const match = /^\/spec\/(containers|initContainers)\/(\d+)\/env/.exec(op.path);
    if (match) names.add(pod.spec![match[1] as 'containers']![Number(match[2])]!.name);
  }
  return [...names];
}

function applyPatch(pod: Pod, patch: JsonPatchOp[]): Pod {
  // validate=true: an op whose path does not exist in the raw pod throws, as the API server would.
  return fastJsonPatch.applyPatch(structuredClone(pod), patch, true, false).newDocument;
}

// A patch that re-serialised a container or the volume list would show up here.
const ALLOWED_PATH: Record<JsonPatchOp['op'], RegExp> = {
  add: /^\/spec\/((containers|initContainers)\/\d+\/(env|volumeMounts)(\/-)?|volumes(\/-)?)$/,
  replace: /^\/spec\/(containers|initContainers)\/\d+\/env\/\d+$/,
};

const files = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.yaml') && !file.startsWith('_'))
  .sort();

describe('mutatePod fixtures', () => {
  it('finds the fixtures', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  describe.each(files)('%s', (file) => {
    const fixture = load<Fixture>(file);
    const { config, namespace, serviceAccount } = inputs(fixture);

    it('is a well-formed case', () => {
      expect(Object.keys(fixture).filter((key) => !KNOWN_KEYS.has(key))).toEqual([]);
      expect(typeof fixture.description).toBe('string');
      const { patch, patchIncludes, pod, injectedContainers: names } = fixture.expect;
      expect(patch ?? patchIncludes ?? pod ?? names).toBeDefined();
    });

    it('yields the expected patch, pod and warnings', () => {
      const result = mutatePod(fixture.pod, serviceAccount, namespace, config);
      expect(result.outcome).toBe(fixture.expect.outcome);
      expect(result.warnings).toEqual(fixture.expect.warnings ?? []);
      if (fixture.expect.patch) expect(result.patch).toEqual(fixture.expect.patch);
      for (const op of fixture.expect.patchIncludes ?? []) expect(result.patch).toContainEqual(op);
      if (fixture.expect.injectedContainers) {
        expect(injectedContainers(fixture.pod, result.patch)).toEqual(
          fixture.expect.injectedContainers,
        );
      }
      const mutated = applyPatch(fixture.pod, result.patch);
      if (fixture.expect.pod) expect(mutated).toEqual(fixture.expect.pod);
    });

    it('only appends env, mounts and volumes, or replaces one env entry', () => {
      const { patch } = mutatePod(fixture.pod, serviceAccount, namespace, config);
      for (const op of patch) {
        expect(op.path).toMatch(ALLOWED_PATH[op.op]);
      }
    });

    it('changes nothing when the mutated pod is admitted again', () => {
      const first = mutatePod(fixture.pod, serviceAccount, namespace, config);
      const mutated = applyPatch(fixture.pod, first.patch);
      const second = mutatePod(mutated, serviceAccount, namespace, config);
      expect(second.patch).toEqual([]);
      if (first.outcome === 'Injected') expect(second.outcome).toBe('Unchanged');
    });
  });
});
