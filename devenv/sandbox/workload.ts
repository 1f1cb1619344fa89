// The sandbox's stand-in for the demo pod's process: started with exactly the RRSA env vars the
// webhook injected into the pod (the token file path rewritten to where the sandbox wrote the
// TokenRequest token, since no kubelet mounts it here). Like application code on ACK, it builds
// @alicloud/credentials' OIDC provider from those variables; the Node SDK reads no variable for
// the STS endpoint, so ALIBABA_CLOUD_STS_ENDPOINT is passed in code, as ACK's samples do.
// Each stdin line "call" makes one signed RAM ListRoles call and prints the outcome as JSON.
import { createInterface } from 'node:readline';
import CredentialModule, { Config as CredentialConfig } from '@alicloud/credentials';
import RamModule, { ListRolesRequest } from '@alicloud/ram20150501';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { cjsDefault } from '../../src/util/cjs-default.ts';

const Credential = cjsDefault<typeof CredentialModule.default>(CredentialModule);
const Ram = cjsDefault<typeof RamModule.default>(RamModule);
const ramEndpoint = process.argv[2] ?? 'ram.aliyuncs.com';

const credential = new Credential(
  new CredentialConfig({
    type: 'oidc_role_arn',
    stsEndpoint: process.env.ALIBABA_CLOUD_STS_ENDPOINT,
    roleSessionName: 'rrsa-sandbox-demo',
  }),
);
const ram = new Ram(
  new $OpenApiUtil.Config({ credential, endpoint: ramEndpoint, protocol: 'http' }),
);

async function call(): Promise<Record<string, unknown>> {
  try {
    const response = await ram.listRoles(new ListRolesRequest({}));
    const identity = await credential.getCredential();
    return {
      ok: true,
      roles: (response.body?.roles?.role ?? []).length,
      accessKeyId: identity.accessKeyId,
    };
  } catch (error) {
    const e = error as { code?: string; statusCode?: number; message?: string };
    return { ok: false, code: e.code, statusCode: e.statusCode, message: e.message };
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'call') return;
  void call().then((outcome) => process.stdout.write(`${JSON.stringify(outcome)}\n`));
});
