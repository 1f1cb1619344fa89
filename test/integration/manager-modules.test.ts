import { startRrsaEmulator } from '../support/cluster.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type RunningEmulator as Emulator } from '@rrsa-operator/alibaba-cloud-emulator';
import { findFreePort } from '../../devenv/ports.ts';
import { kubectl } from '../../devenv/kubectl.ts';
import { createCertificateAuthority, issueCertificate } from '../../src/webhook/certs/pki.ts';
import { createNamespace, testControlPlane, uniqueName } from '../support/cluster.ts';
import { spawnManager } from '../support/manager-process.ts';
import { eventually } from '../support/operator-env.ts';

const cp = testControlPlane();
const clusterId = uniqueName('mods');
let emulator: Emulator;
const hook = join(process.cwd(), 'test', 'support', 'module-log.ts');

/** What the manager must never load (ADR 0007 tooling, ADR 0016 client-node, the doctor). */
const FORBIDDEN =
  /@kubernetes\/client-node|alibaba-cloud-emulator|\/devenv\/|\/sandbox\/|\/src\/doctor\//;

beforeAll(async () => {
  emulator = await startRrsaEmulator(cp, clusterId);
});
afterAll(async () => {
  await emulator?.stop();
});

describe('what the manager process loads', () => {
  it('reconciles and serves the webhook without client-node, tooling or the doctor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rrsa-mods-'));
    const ca = createCertificateAuthority('modules test CA');
    const serving = issueCertificate(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'] });
    writeFileSync(join(dir, 'tls.crt'), serving.certPem);
    writeFileSync(join(dir, 'tls.key'), serving.keyPem);
    const log = join(dir, 'modules.txt');
    const replica = await spawnManager({
      emulator,
      clusterId,
      leaseNamespace: await createNamespace(cp, 'mods-lease'),
      env: {
        NODE_OPTIONS: `--import ${hook}`,
        RRSA_MODULE_LOG: log,
        RRSA_WEBHOOK: 'true',
        RRSA_WEBHOOK_PORT: String(await findFreePort()),
        RRSA_WEBHOOK_CERT_MODE: 'files',
        RRSA_WEBHOOK_CERT_DIR: dir,
      },
    });
    try {
      const ns = await createNamespace(cp, 'mods');
      await kubectl(cp.kubeconfigPath, ['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'rrsa.dev/v1alpha1',
          kind: 'PodIdentityBinding',
          metadata: { name: 'app', namespace: ns, labels: { 'rrsa.dev/test-env': clusterId } },
          spec: { serviceAccountName: 'app', createServiceAccount: true },
        }),
      });
      // Ready means the whole path ran: list/watch, Lease, finalizer, ServiceAccount create and
      // annotate, status patch, Events.
      await eventually(
        'binding app Ready',
        async () => {
          const { stdout } = await kubectl(cp.kubeconfigPath, [
            'get',
            'pib',
            'app',
            '-n',
            ns,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ]);
          return stdout === 'True' ? true : undefined;
        },
        30_000,
      );
      // Ready can come before /readyz: on a fresh apiserver the AccountMapping watch's first LIST
      // may get 429 "storage is (re)initializing" and retry about 0.5 s later (seen on main too).
      const readyz = await eventually(
        '/readyz 200',
        async () => {
          const response = await fetch(`http://127.0.0.1:${replica.healthPort}/readyz`);
          return response.status === 200 ? response.status : undefined;
        },
        10_000,
      );
      expect(readyz).toBe(200);
    } finally {
      replica.child.kill('SIGTERM');
      await replica.exited;
    }
    const loaded = readFileSync(log, 'utf8').trim().split('\n');
    expect(loaded.some((url) => url.includes('/src/manager/manager.ts'))).toBe(true);
    expect(loaded.some((url) => url.includes('/src/kube/rest.ts'))).toBe(true);
    expect(loaded.filter((url) => FORBIDDEN.test(url))).toEqual([]);
  }, 90_000);

  it('the doctor does not load the manager, and help loads neither', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rrsa-mods-'));
    const run = promisify(execFile);
    const node = join(process.cwd(), 'node_modules', '.bin', 'node');
    const loadedBy = async (args: string[]): Promise<string[]> => {
      const log = join(dir, `${args[0]}.txt`);
      await run(node, ['--import', hook, 'src/main.ts', ...args], {
        env: { ...process.env, RRSA_MODULE_LOG: log },
      });
      return readFileSync(log, 'utf8').trim().split('\n');
    };
    const doctor = await loadedBy(['doctor', '--help']);
    expect(doctor.some((url) => url.includes('/src/doctor/command.ts'))).toBe(true);
    expect(doctor.filter((url) => /\/src\/manager\/|@alicloud/.test(url))).toEqual([]);
    const help = await loadedBy(['help']);
    expect(help.filter((url) => /\/src\/(manager|doctor)\/|node_modules/.test(url))).toEqual([]);
  }, 60_000);
});
