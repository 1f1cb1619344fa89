// The application of ACK's RRSA demo, run as a real pod: it builds @alicloud/credentials' OIDC
// credential from exactly the env vars the webhook injected (role and provider ARNs, the token
// file the kubelet projects, the STS endpoint), then makes one signed RAM call every few seconds
// and logs the outcome as one JSON line: `kubectl logs` is the demo's "check application output".
// The Node SDK reads no variable for the STS endpoint, so it is passed in code, as ACK's samples do.
import CredentialModule, { Config as CredentialConfig } from '@alicloud/credentials';
import RamModule, { ListRolesRequest } from '@alicloud/ram20150501';
import { $OpenApiUtil } from '@alicloud/openapi-core';

const Credential = CredentialModule.default ?? CredentialModule;
const Ram = RamModule.default ?? RamModule;
const intervalMs = Number(process.env.DEMO_INTERVAL_MS ?? 3000);

const credential = new Credential(
  new CredentialConfig({
    type: 'oidc_role_arn',
    stsEndpoint: process.env.ALIBABA_CLOUD_STS_ENDPOINT,
    roleSessionName: 'rrsa-demo',
  }),
);
const ram = new Ram(new $OpenApiUtil.Config({ credential, endpoint: 'ram.aliyuncs.com' }));

async function call() {
  try {
    const response = await ram.listRoles(new ListRolesRequest({}));
    const identity = await credential.getCredential();
    return {
      ok: true,
      roles: (response.body?.roles?.role ?? []).length,
      accessKeyId: identity.accessKeyId,
    };
  } catch (error) {
    return { ok: false, code: error.code, statusCode: error.statusCode, message: error.message };
  }
}

const env = Object.keys(process.env)
  .filter((k) => k.startsWith('ALIBABA_CLOUD_'))
  .sort();
console.log(JSON.stringify({ started: true, env }));
for (;;) {
  console.log(JSON.stringify({ at: new Date().toISOString(), ...(await call()) }));
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
