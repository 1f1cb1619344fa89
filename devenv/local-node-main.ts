// `npm run local-node [-- --keep]`: a real node on this machine (root), the operator installed
// from its image with `kubectl apply -k config/overlays/local-node`, and the ACK demo pod's
// signed call, then its 403 once the policy is removed. --keep leaves everything running and
// prints the kubeconfig; Ctrl-C stops it.
import { startLocalCluster } from './local-node.ts';
import { runDemo } from './local-node-demo.ts';

const keep = process.argv.includes('--keep');
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(
    'usage: npm run local-node [-- --keep]\n' +
      '  Needs root: installs containerd, runc, CNI plugins, buildah, debootstrap (Debian packages),\n' +
      '  builds kubelet + kube-scheduler and the images, starts a node, installs the operator and\n' +
      '  runs the ACK demo pod. --keep: leave it running (Ctrl-C stops and cleans up).\n',
  );
  process.exit(0);
}
const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const repoRoot = process.cwd();
const started = Date.now();
const cluster = await startLocalCluster({ repoRoot, print });
let failed = false;
try {
  await runDemo(cluster, repoRoot, print);
  print(`local node demo passed in ${Math.round((Date.now() - started) / 1000)} s`);
} catch (error) {
  failed = true;
  print(`local node demo failed: ${error instanceof Error ? error.message : String(error)}`);
}
if (keep) {
  print(`kubeconfig: ${cluster.cp.kubeconfigPath}  (kubectl: ${cluster.cp.kubectl}); Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
await cluster.stop();
process.exitCode = failed ? 1 : 0;
