import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AttachPolicyToRoleRequest,
  CreatePolicyRequest,
  CreateRoleRequest,
} from '@alicloud/ram20150501';
import {
  start as startEmulator,
  type RunningEmulator,
} from '@rrsa-operator/alibaba-cloud-emulator';
import { createSdkClients } from '../src/cloud/sdk-clients.ts';
import { createClusterOidcProvider } from './cloud-setup.ts';
import { startControlPlane, type ControlPlane } from './controlplane.ts';
import { waitFor } from './kube-http.ts';
import { ensureNodeNetwork, NODE_NETWORK, startLocalNode, type LocalNode } from './node.ts';

const run = promisify(execFile);
export const LOCAL_CLUSTER_ID = 'c0000000000000000000000000000000';
/** Hostnames pods resolve to the node (hostAliases in config/overlays/local-node). */
const CLOUD_HOSTNAMES = [
  'ram.aliyuncs.com',
  'ims.aliyuncs.com',
  'sts.aliyuncs.com',
  'sts.cn-hangzhou.aliyuncs.com',
  'sts-vpc.cn-hangzhou.aliyuncs.com',
];
/** README "Install into an ACK cluster" step 2: what the operator's own role may do. */
const OPERATOR_ACTIONS = [
  'ram:GetRole',
  'ram:CreateRole',
  'ram:UpdateRole',
  'ram:DeleteRole',
  'ram:ListPoliciesForRole',
  'ram:AttachPolicyToRole',
  'ram:DetachPolicyFromRole',
  'ram:TagResources',
  'ram:UntagResources',
  'ram:ListTagResources',
  'ram:GetPolicy',
  'ram:GetPolicyVersion',
  // IMS's OIDC-provider calls are authorized under the ram: service prefix.
  'ram:GetOIDCProvider',
  'sts:GetCallerIdentity',
  // Inline policies (spec.role.inlinePolicies).
  'ram:CreatePolicy',
  'ram:CreatePolicyVersion',
  'ram:ListPolicyVersions',
  'ram:SetDefaultPolicyVersion',
  'ram:DeletePolicyVersion',
  'ram:DeletePolicy',
  'ram:ListPolicies',
];

export interface LocalCluster {
  cp: ControlPlane;
  node: LocalNode;
  emulator: RunningEmulator;
  kubectl: (args: string[], input?: string) => Promise<string>;
  stop: () => Promise<void>;
}

/**
 * A real cluster on this machine: control plane + one node, the cloud emulator on the node's
 * address (HTTPS on 443, as the real endpoints), RRSA enabled for the cluster, and the operator
 * installed as a user installs it: README's install steps against the emulator, then
 * `kubectl apply -k config/overlays/local-node`. Resolves when both operator replicas are Ready
 * and the webhook has its CA bundle.
 */
export async function startLocalCluster(options: {
  repoRoot: string;
  print?: (line: string) => void;
}): Promise<LocalCluster> {
  const print = options.print ?? (() => {});
  const { repoRoot } = options;
  const sh = (script: string, args: string[] = []): string =>
    execFileSync('bash', [join(repoRoot, script), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  sh('hack/node/install.sh');
  const binDir = sh('hack/controlplane/build.sh', ['--node']);
  const images = sh('hack/node/images.sh').split('\n');
  print(`images: ${images.map((p) => p.split('/').pop()).join(', ')}`);

  ensureNodeNetwork();
  const cp = await startControlPlane({ binDir, node: { address: NODE_NETWORK.address } });
  const stops: (() => Promise<void>)[] = [() => cp.stop()];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const kubectl = async (args: string[], input?: string): Promise<string> => {
      const child = run(cp.kubectl, ['--kubeconfig', cp.kubeconfigPath, ...args], {
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      if (input !== undefined) child.child.stdin?.end(input);
      return (await child).stdout;
    };
    const node = await startLocalNode(cp, { binDir, images });
    stops.push(() => node.stop());
    print(`node ${node.name} Ready at ${node.address} (kubelet log: ${node.kubeletLog})`);

    const emulator = await startEmulator({
      host: NODE_NETWORK.address,
      port: 443,
      https: true,
      tlsHosts: [NODE_NETWORK.address, ...CLOUD_HOSTNAMES],
      caFile: join(cp.dir, 'emulator-ca.crt'),
      issuerOverrides: { [cp.issuer]: { caPem: cp.caPem } },
    });
    stops.push(() => emulator.stop());
    const providerArn = await enableRrsa(cp, emulator);
    const operatorRoleArn = await createOperatorRole(cp, emulator, providerArn);
    print(`emulator on https://${NODE_NETWORK.address}:443; operator role ${operatorRoleArn}`);

    const overlay = join(repoRoot, 'config', 'overlays', 'local-node');
    writeFileSync(join(overlay, 'emulator-ca.crt'), emulator.caPem ?? '');
    writeFileSync(
      join(overlay, 'local-node.env'),
      [
        `RRSA_CLUSTER_ID=${LOCAL_CLUSTER_ID}`,
        `ALIBABA_CLOUD_ROLE_ARN=${operatorRoleArn}`,
        `ALIBABA_CLOUD_OIDC_PROVIDER_ARN=${providerArn}`,
        // No kube-proxy: the `kubernetes` Service's ClusterIP is not routed, so pods are told
        // the apiserver's own address (a container's env wins over the kubelet's service env).
        `KUBERNETES_SERVICE_HOST=${NODE_NETWORK.address}`,
        `KUBERNETES_SERVICE_PORT=${new URL(cp.server).port}`,
        '',
      ].join('\n'),
    );
    print((await kubectl(['apply', '--server-side', '-k', overlay])).trimEnd());
    await kubectl([
      '-n',
      'rrsa-system',
      'rollout',
      'status',
      'deployment/rrsa-operator',
      '--timeout=180s',
    ]);
    await waitFor(
      'the operator to write the webhook CA bundle',
      async () => {
        const bundle = await kubectl([
          'get',
          'mutatingwebhookconfiguration',
          'rrsa-operator-pod-identity',
          '-o',
          'jsonpath={.webhooks[0].clientConfig.caBundle}',
        ]);
        return bundle.length > 100 ? true : undefined;
      },
      60_000,
      500,
    );
    print((await kubectl(['-n', 'rrsa-system', 'get', 'pods,lease,pdb', '-o', 'wide'])).trimEnd());
    return { cp, node, emulator, kubectl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** What enabling RRSA on ACK does: the cluster's OIDC provider in IMS. */
async function enableRrsa(cp: ControlPlane, emulator: RunningEmulator): Promise<string> {
  return createClusterOidcProvider({
    endpoint: emulator.endpoint,
    credentials: emulator.rootKey,
    clusterId: LOCAL_CLUSTER_ID,
    issuerUrl: cp.issuer,
    issuerCaPem: cp.caPem,
  });
}

/** README install steps 1 and 2, with the account's root key (as an administrator would). */
async function createOperatorRole(
  cp: ControlPlane,
  emulator: RunningEmulator,
  providerArn: string,
): Promise<string> {
  const { ram } = createSdkClients(
    { region: 'cn-hangzhou', ram: emulator.endpoint, protocol: 'http' },
    emulator.rootKey,
  );
  const trust = {
    Version: '1',
    Statement: [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Federated: [providerArn] },
        Condition: {
          StringEquals: {
            'oidc:aud': 'sts.aliyuncs.com',
            'oidc:iss': cp.issuer,
            'oidc:sub': 'system:serviceaccount:rrsa-system:rrsa-operator',
          },
        },
      },
    ],
  };
  const role = await ram.createRole(
    new CreateRoleRequest({
      roleName: 'rrsa-operator',
      assumeRolePolicyDocument: JSON.stringify(trust),
    }),
  );
  await ram.createPolicy(
    new CreatePolicyRequest({
      policyName: 'RrsaOperator',
      policyDocument: JSON.stringify({
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: OPERATOR_ACTIONS, Resource: '*' }],
      }),
    }),
  );
  await ram.attachPolicyToRole(
    new AttachPolicyToRoleRequest({
      policyType: 'Custom',
      policyName: 'RrsaOperator',
      roleName: 'rrsa-operator',
    }),
  );
  return role.body?.role?.arn ?? '';
}
