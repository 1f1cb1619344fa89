import {
  $Ims,
  $Ram,
  $Sts,
  clientsFor,
  sdkError,
} from '../../packages/alibaba-cloud-emulator/test/support.ts';
import { rrsaTrustPolicy } from '../../packages/alibaba-cloud-emulator/test/oidc-issuer.ts';
import { start, type RunningEmulator } from '@rrsa-operator/alibaba-cloud-emulator';
import { kubectl } from '../../devenv/kubectl.ts';
import { createNamespace, testControlPlane } from '../support/cluster.ts';

// AssumeRoleWithOIDC with a real ServiceAccount token from the shared control plane: the
// emulator discovers the apiserver's keys at <issuer>/.well-known/openid-configuration (served
// anonymously), trusting the control plane's CA through the issuer override.

const cp = testControlPlane();
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await start({
    issuerOverrides: {
      [cp.issuer]: {
        discoveryUrl: `${cp.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
        caPem: cp.caPem,
      },
    },
  });
});
afterAll(() => emulator?.stop());

async function saToken(ns: string, sa: string): Promise<string> {
  await kubectl(cp.kubeconfigPath, ['create', 'serviceaccount', sa, '-n', ns]);
  const { stdout } = await kubectl(cp.kubeconfigPath, [
    'create',
    'token',
    sa,
    '-n',
    ns,
    '--audience',
    'sts.aliyuncs.com',
  ]);
  return stdout.trim();
}

it('assumes a role with a real ServiceAccount token and refuses another ServiceAccount', async () => {
  const ns = await createNamespace(cp, 'emu-oidc');
  const clients = clientsFor(emulator);
  const provider = await clients.ims.createOIDCProvider(
    new $Ims.CreateOIDCProviderRequest({
      OIDCProviderName: 'ack-rrsa-local',
      issuerUrl: cp.issuer,
      clientIds: 'sts.aliyuncs.com',
    }),
  );
  const providerArn = provider.body?.OIDCProvider?.arn ?? '';
  const role = await clients.ram.createRole(
    new $Ram.CreateRoleRequest({
      roleName: 'demo-role',
      assumeRolePolicyDocument: rrsaTrustPolicy(
        providerArn,
        cp.issuer,
        `system:serviceaccount:${ns}:demo-sa`,
      ),
    }),
  );
  const assume = (token: string) =>
    clients.sts.assumeRoleWithOIDC(
      new $Sts.AssumeRoleWithOIDCRequest({
        OIDCProviderArn: providerArn,
        roleArn: role.body?.role?.arn ?? '',
        OIDCToken: token,
        roleSessionName: 'demo',
      }),
    );

  const ok = await assume(await saToken(ns, 'demo-sa'));
  expect(ok.body?.credentials?.accessKeyId).toMatch(/^STS\./);
  expect(ok.body?.OIDCTokenInfo).toMatchObject({
    subject: `system:serviceaccount:${ns}:demo-sa`,
    issuer: cp.issuer,
    clientIds: 'sts.aliyuncs.com',
  });

  const other = await sdkError(assume(await saToken(ns, 'other-sa')));
  expect(other).toMatchObject({ code: 'AuthenticationFail.NoPermission', statusCode: 401 });
  expect(other.data.Message).toBe('There is no permission');
});
