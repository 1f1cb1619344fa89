import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from '../../devenv/ports.ts';
import { installCrds } from '../../devenv/kubectl.ts';
import { waitFor } from '../../devenv/kube-http.ts';

const run = promisify(execFile);

/**
 * Builds (or finds in the cache) the pinned Flux controllers: hack/flux/build.sh prints the cache
 * directory, with bin/ and the controllers' own CRDs in crds/.
 */
export async function buildFlux(): Promise<{ bin: string; crds: string }> {
  const { stdout } = await run('bash', ['hack/flux/build.sh'], { maxBuffer: 8 << 20 });
  const dir = stdout.trim();
  return { bin: join(dir, 'bin'), crds: join(dir, 'crds') };
}

export interface FluxController {
  name: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export interface Flux {
  source: FluxController;
  kustomize: FluxController;
  stop(): Promise<void>;
}

async function startController(
  bin: string,
  name: string,
  kubeconfigPath: string,
  args: string[],
): Promise<FluxController> {
  const healthPort = await findFreePort();
  const metricsPort = await findFreePort();
  const child = spawn(
    join(bin, name),
    [
      '--watch-all-namespaces=true',
      '--enable-leader-election=false',
      `--health-addr=127.0.0.1:${healthPort}`,
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      '--log-level=debug',
      ...args,
    ],
    // controller-runtime reads KUBECONFIG; RUNTIME_NAMESPACE is where the controllers would run in
    // a cluster.
    {
      env: { ...process.env, KUBECONFIG: kubeconfigPath, RUNTIME_NAMESPACE: 'flux-system' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 4 << 20) output = output.slice(-(2 << 20));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  await waitFor(
    `${name} to report ready on 127.0.0.1:${healthPort}/readyz`,
    async () => {
      if (dead) throw new Error(`${name} exited:\n${output.slice(-4000)}`);
      const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined);
      return res?.ok ? true : undefined;
    },
    60_000,
    200,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    name,
    child,
    output: () => output,
    stop: async () => {
      if (dead) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Flux's source-controller and kustomize-controller as local processes against the test control
 * plane: watching all namespaces, no leader election, health and metrics on free loopback ports,
 * artifacts under `dir`, served on loopback for kustomize-controller to fetch.
 */
export async function startFlux(kubeconfigPath: string, dir: string): Promise<Flux> {
  const { bin, crds } = await buildFlux();
  await installCrds(kubeconfigPath, crds);
  const storage = join(dir, 'artifacts');
  await mkdir(storage, { recursive: true });
  const storagePort = await findFreePort();
  const source = await startController(bin, 'source-controller', kubeconfigPath, [
    `--storage-path=${storage}`,
    `--storage-addr=127.0.0.1:${storagePort}`,
    `--storage-adv-addr=127.0.0.1:${storagePort}`,
  ]);
  const kustomize = await startController(bin, 'kustomize-controller', kubeconfigPath, [
    '--no-remote-bases=true',
  ]).catch(async (error: unknown) => {
    await source.stop();
    throw error;
  });
  return {
    source,
    kustomize,
    stop: async () => {
      await Promise.all([kustomize.stop(), source.stop()]);
    },
  };
}
