import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { start, type RunningEmulator } from '../src/index.ts';
import { rrsaTrustPolicy, startIssuer, type TestIssuer } from './oidc-issuer.ts';
import { $Ims, $Ram, clientsFor, permission } from './support.ts';

const ROOT = resolve(__dirname, '../../..');
const PROVIDER_ARN = 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1';
const ROLE_ARN = 'acs:ram::1234567890123456:role/workload';

let emulator: RunningEmulator;
let issuer: TestIssuer;
let dir: string;
let child: ChildProcessWithoutNullStreams | undefined;

// Key generation and a second Node process: slow on a loaded 2-CPU runner.
jest.setTimeout(30_000);

beforeAll(async () => {
  issuer = await startIssuer();
  emulator = await start({ https: true, issuerOverrides: { [issuer.issuer]: issuer.override } });
  dir = mkdtempSync(join(tmpdir(), 'rrsa-cred-'));
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await emulator?.stop();
  await issuer?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the workload process and returns a function that runs one call in it. */
function workload(env: Record<string, string>): () => Promise<Record<string, unknown>> {
  const proc = spawn(
    join(ROOT, 'node_modules/.bin/node'),
    [join(__dirname, 'fixtures/rrsa-client.ts'), emulator.endpoint, emulator.endpoint],
    { cwd: ROOT, env },
  );
  child = proc;
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: proc.stdout });
  const pending: ((line: string) => void)[] = [];
  lines.on('line', (line) => pending.shift()?.(line));
  return () =>
    new Promise((resolveLine, reject) => {
      proc.once('exit', (code) => reject(new Error(`workload exited ${code}: ${stderr}`)));
      pending.push((line) => resolveLine(JSON.parse(line) as Record<string, unknown>));
      proc.stdin.write('call\n');
    });
}

it('@alicloud/credentials gets RRSA credentials from the emulator; permissions follow the attached policy', async () => {
  const root = clientsFor(emulator);
  await root.ims.createOIDCProvider(
    new $Ims.CreateOIDCProviderRequest({
      OIDCProviderName: 'ack-rrsa-c1',
      issuerUrl: issuer.issuer,
      clientIds: 'sts.aliyuncs.com',
    }),
  );
  await root.ram.createRole(
    new $Ram.CreateRoleRequest({
      roleName: 'workload',
      assumeRolePolicyDocument: rrsaTrustPolicy(
        PROVIDER_ARN,
        issuer.issuer,
        'system:serviceaccount:ns1:app',
      ),
    }),
  );
  await root.ram.createPolicy(
    new $Ram.CreatePolicyRequest({
      policyName: 'list-roles',
      policyDocument: permission('ram:List*'),
    }),
  );
  await root.ram.attachPolicyToRole(
    new $Ram.AttachPolicyToRoleRequest({
      roleName: 'workload',
      policyName: 'list-roles',
      policyType: 'Custom',
    }),
  );
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, await issuer.sign());

  const call = workload({
    PATH: process.env.PATH ?? '',
    ALIBABA_CLOUD_ROLE_ARN: ROLE_ARN,
    ALIBABA_CLOUD_OIDC_PROVIDER_ARN: PROVIDER_ARN,
    ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile,
    NODE_EXTRA_CA_CERTS: emulator.caFile ?? '',
  });
  const first = await call();
  expect(first).toMatchObject({ ok: true, roles: ['workload'] });
  expect(first.accessKeyId).toMatch(/^STS\./);

  const assumed = emulator.controls.requests({ action: 'AssumeRoleWithOIDC' });
  expect(assumed).toHaveLength(1);
  expect(assumed[0]).toMatchObject({ status: 200, caller: 'anonymous' });
  expect(assumed[0]?.params).toMatchObject({ Format: 'JSON', RoleArn: ROLE_ARN });
  expect(emulator.controls.requests({ action: 'ListRoles' })[0]).toMatchObject({
    caller: 'session',
    accessKeyId: first.accessKeyId,
  });

  await root.ram.detachPolicyFromRole(
    new $Ram.DetachPolicyFromRoleRequest({
      roleName: 'workload',
      policyName: 'list-roles',
      policyType: 'Custom',
    }),
  );
  const second = await call();
  expect(second).toMatchObject({
    ok: false,
    code: 'NoPermission',
    statusCode: 403,
    accessDeniedDetail: { AuthAction: 'ram:ListRoles', AuthPrincipalType: 'AssumedRoleUser' },
  });
  // The cached session was reused: one AssumeRoleWithOIDC for both calls.
  expect(emulator.controls.count({ action: 'AssumeRoleWithOIDC' })).toBe(1);
});
