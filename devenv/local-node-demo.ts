import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalCluster } from './local-node.ts';
import { waitFor } from './kube-http.ts';

const RAM_READ = { type: 'System', name: 'AliyunRAMReadOnlyAccess' };
const CS_READ = { type: 'System', name: 'AliyunCSReadOnlyAccess' };

export interface DemoOutcome {
  /** The pod's env var names starting ALIBABA_CLOUD_, as its program saw them. */
  env: string[];
  /** The first log line of a signed call that succeeded. */
  allowed: Record<string, unknown>;
  /** The first log line of a call refused after the policy left the binding. */
  denied: Record<string, unknown>;
  logs: string;
}

/**
 * The ACK RRSA demo, for real: config/samples/ack-demo.yaml (namespace labelled for injection,
 * ServiceAccount, binding), the demo pod (hack/node/demo/pod.yaml) on the node, its log shows a
 * signed RAM call made with the STS credentials from its projected token; then the policy leaves
 * the binding and the log shows the refusal.
 */
export async function runDemo(
  cluster: LocalCluster,
  repoRoot: string,
  print: (line: string) => void = () => {},
): Promise<DemoOutcome> {
  const { kubectl } = cluster;
  print((await kubectl(['apply', '-f', join(repoRoot, 'config/samples/ack-demo.yaml')])).trimEnd());
  // The emulator serves RAM, not Container Service: the demo also reads RAM, so its signed call
  // can succeed and then fail when that policy goes.
  await setPolicies(cluster, [CS_READ, RAM_READ]);
  await kubectl([
    '-n',
    'rrsa-demo',
    'wait',
    'podidentitybinding/demo',
    '--for=condition=Ready',
    '--timeout=90s',
  ]);
  await kubectl([
    '-n',
    'rrsa-demo',
    'create',
    'configmap',
    'rrsa-local-emulator-ca',
    `--from-literal=emulator-ca.crt=${cluster.emulator.caPem ?? ''}`,
  ]);
  print(
    (
      await kubectl(
        ['apply', '-f', '-'],
        readFileSync(join(repoRoot, 'hack/node/demo/pod.yaml'), 'utf8'),
      )
    ).trimEnd(),
  );
  await kubectl(['-n', 'rrsa-demo', 'wait', 'pod/demo', '--for=condition=Ready', '--timeout=120s']);
  const logLines = async (): Promise<Record<string, unknown>[]> =>
    (await kubectl(['-n', 'rrsa-demo', 'logs', 'demo']))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const allowed = await waitFor(
    'a successful signed call in the demo pod log',
    async () => (await logLines()).find((l) => l.ok === true),
    60_000,
    1000,
  );
  print(`  demo pod: ${JSON.stringify(allowed)}`);
  const env = ((await logLines()).find((l) => l.started === true)?.env ?? []) as string[];
  await setPolicies(cluster, [CS_READ]);
  const denied = await waitFor(
    'a refused call after the policy was removed',
    async () => {
      const lines = await logLines();
      const after = lines.slice(lines.indexOf(allowed) + 1);
      return after.find((l) => l.ok === false && l.statusCode === 403);
    },
    90_000,
    1000,
  );
  print(`  after the policy left the binding: ${JSON.stringify(denied)}`);
  return { env, allowed, denied, logs: await kubectl(['-n', 'rrsa-demo', 'logs', 'demo']) };
}

async function setPolicies(
  cluster: LocalCluster,
  policies: { type: string; name: string }[],
): Promise<void> {
  await cluster.kubectl([
    '-n',
    'rrsa-demo',
    'patch',
    'podidentitybinding',
    'demo',
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { role: { policies } } }),
  ]);
}
