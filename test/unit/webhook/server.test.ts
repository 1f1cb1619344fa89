import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { Registry } from 'prom-client';
import {
  createCertificateAuthority,
  issueCertificate,
  type CertifiedKey,
} from '../../../src/webhook/certs/pki.ts';
import type { EventSink, IdentityLookup } from '../../../src/webhook/ports.ts';
import { defaultInjectionConfig } from '../../../src/webhook/config.ts';
import { CertificateFiles } from '../../../src/webhook/certs/files.ts';
import {
  startWebhookServer,
  MUTATE_PATH,
  type WebhookServer,
  type WebhookServerOptions,
} from '../../../src/webhook/server.ts';
import type {
  AdmissionReview,
  JsonPatchOp,
  Namespace,
  ServiceAccount,
} from '../../../src/webhook/types.ts';
import { podCreateReview } from '../../../devenv/admission-review.ts';

// The real HTTPS server on loopback, fed by an in-memory IdentityLookup (the port the Kubernetes
// adapter implements; the adapter itself is exercised against the real apiserver in
// test/integration/webhook.test.ts).

const ca = createCertificateAuthority('webhook-test-ca');
const serving = issueCertificate(ca, { commonName: 'webhook', ipAddresses: ['127.0.0.1'] });

class MemoryLookup implements IdentityLookup {
  synced = true;
  failWith: Error | undefined;
  namespaceFailWith: Error | undefined;
  readonly serviceAccounts = new Map<string, ServiceAccount>();
  readonly namespaces = new Map<string, Namespace>();
  serviceAccount(namespace: string, name: string): Promise<ServiceAccount | undefined> {
    if (this.failWith) return Promise.reject(this.failWith);
    return Promise.resolve(this.serviceAccounts.get(`${namespace}/${name}`));
  }
  namespace(name: string): Promise<Namespace | undefined> {
    if (this.namespaceFailWith) return Promise.reject(this.namespaceFailWith);
    return Promise.resolve(this.namespaces.get(name));
  }
  hasSynced(): boolean {
    return this.synced;
  }
}

interface Recorded {
  reason: string;
  message: string;
  namespace: string;
  object: string;
}
class MemoryEvents implements EventSink {
  readonly events: Recorded[] = [];
  record(
    object: { namespace: string; kind: string; name: string },
    _type: string,
    reason: string,
    message: string,
  ): void {
    this.events.push({
      namespace: object.namespace,
      object: `${object.kind}/${object.name}`,
      reason,
      message,
    });
  }
}

interface Reply {
  status: number;
  body: string;
  json: () => AdmissionReview;
}

function call(
  server: WebhookServer,
  options: {
    method?: string;
    path?: string;
    body?: string;
    contentType?: string;
    caPem?: string;
    agent?: Agent;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: options.path ?? MUTATE_PATH,
        method: options.method ?? 'POST',
        ca: options.caPem ?? ca.certPem,
        headers: { 'content-type': options.contentType ?? 'application/json' },
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body,
            json: () => JSON.parse(body) as AdmissionReview,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function review(object: unknown, extra: Record<string, unknown> = {}): string {
  return podCreateReview(object, {
    namespace: 'shop',
    uid: 'b8f4c2a1-0000-4000-8000-000000000001',
    extra,
  });
}

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'web-' },
  spec: {
    serviceAccountName: 'web',
    containers: [{ name: 'web', image: 'web:1', futureField: 1 }],
  },
};

function decodePatch(r: AdmissionReview): JsonPatchOp[] {
  return JSON.parse(Buffer.from(r.response!.patch!, 'base64').toString('utf8')) as JsonPatchOp[];
}

describe('admission server', () => {
  const lookup = new MemoryLookup();
  const events = new MemoryEvents();
  const registry = new Registry();
  let server: WebhookServer;
  const base: Omit<WebhookServerOptions, 'registry'> = {
    host: '127.0.0.1',
    port: 0,
    certificates: { current: () => serving, subscribe: () => () => undefined },
    lookup,
    events,
    injection: defaultInjectionConfig({
      accountId: '1234567890123456',
      clusterId: 'c1',
      stsEnv: { enabled: true, region: 'cn-shanghai', vpcEndpoint: true },
    }),
    missingServiceAccount: 'admit',
    maxBodyBytes: 64 * 1024,
  };

  beforeAll(async () => {
    lookup.namespaces.set('shop', {
      metadata: { name: 'shop', labels: { 'pod-identity.alibabacloud.com/injection': 'on' } },
    });
    lookup.serviceAccounts.set('shop/web', {
      metadata: {
        name: 'web',
        namespace: 'shop',
        annotations: { 'pod-identity.alibabacloud.com/role-name': 'web-role' },
      },
    });
    server = await startWebhookServer({ ...base, registry });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers a pod CREATE with admission.k8s.io/v1, the request uid and a JSON patch', async () => {
    const res = await call(server, { body: review(pod) });
    expect(res.status).toBe(200);
    const answer = res.json();
    expect(answer.apiVersion).toBe('admission.k8s.io/v1');
    expect(answer.kind).toBe('AdmissionReview');
    expect(answer.response).toMatchObject({
      uid: 'b8f4c2a1-0000-4000-8000-000000000001',
      allowed: true,
      patchType: 'JSONPatch',
    });
    const patch = decodePatch(answer);
    expect(patch[0]).toEqual({
      op: 'add',
      path: '/spec/containers/0/env',
      value: expect.arrayContaining([
        { name: 'ALIBABA_CLOUD_ROLE_ARN', value: 'acs:ram::1234567890123456:role/web-role' },
      ]),
    });
    expect(patch.map((op) => op.path)).toEqual([
      '/spec/containers/0/env',
      '/spec/containers/0/volumeMounts',
      '/spec/volumes',
    ]);
  });

  it('echoes a v1beta1 envelope as v1beta1', async () => {
    const body = review(pod).replace('admission.k8s.io/v1', 'admission.k8s.io/v1beta1');
    expect((await call(server, { body })).json().apiVersion).toBe('admission.k8s.io/v1beta1');
  });

  it('allows anything but a pod CREATE untouched', async () => {
    for (const extra of [
      { operation: 'UPDATE' },
      {
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      },
      { subResource: 'ephemeralcontainers' },
      { object: 'not an object' },
    ]) {
      const answer = (await call(server, { body: review(pod, extra) })).json();
      expect(answer.response).toEqual({
        uid: 'b8f4c2a1-0000-4000-8000-000000000001',
        allowed: true,
      });
    }
  });

  it.each([
    ['not JSON', '{"apiVersion":', 400, 'body is not JSON'],
    ['a JSON array', '[]', 400, 'body is not a JSON object'],
    [
      'another apiVersion',
      JSON.stringify({ apiVersion: 'v1', kind: 'AdmissionReview', request: { uid: 'x' } }),
      400,
      'is not admission.k8s.io/v1',
    ],
    [
      'another kind',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request: { uid: 'x' } }),
      400,
      'is not AdmissionReview',
    ],
    [
      'no request',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      400,
      'request is missing',
    ],
    [
      'no uid',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }),
      400,
      'request.uid is missing',
    ],
    [
      'a body over the limit',
      review({ ...pod, pad: 'x'.repeat(70 * 1024) }),
      413,
      'exceeds the 65536-byte limit',
    ],
  ])('refuses %s with a clear error', async (_what, body, status, message) => {
    const res = await call(server, { body });
    expect(res.status).toBe(status);
    expect((JSON.parse(res.body) as { error: string }).error).toContain(message);
  });

  it('refuses a wrong method, content type or path', async () => {
    expect((await call(server, { method: 'GET' })).status).toBe(405);
    expect((await call(server, { body: review(pod), contentType: 'text/plain' })).status).toBe(415);
    expect((await call(server, { path: '/other', method: 'GET' })).status).toBe(404);
  });

  it('still serves after every bad request above', async () => {
    expect((await call(server, { body: review(pod) })).json().response?.allowed).toBe(true);
  });

  it('admits a pod whose ServiceAccount is missing, with a warning, an Event and a metric', async () => {
    const before = events.events.length;
    const orphan = { ...pod, spec: { ...pod.spec, serviceAccountName: 'ghost' } };
    const answer = (await call(server, { body: review(orphan) })).json();
    expect(answer.response).toEqual({
      uid: 'b8f4c2a1-0000-4000-8000-000000000001',
      allowed: true,
      warnings: ['ServiceAccount shop/ghost not found: pod admitted without RRSA credentials'],
    });
    expect(events.events.slice(before)).toEqual([
      {
        namespace: 'shop',
        object: 'ServiceAccount/ghost', // bounded: per ServiceAccount, never per pod name
        reason: 'RRSAServiceAccountMissing',
        message: 'ServiceAccount shop/ghost not found: pod admitted without RRSA credentials',
      },
    ]);
    // A dry run records no Event (sideEffects: None).
    await call(server, { body: review(orphan, { dryRun: true }) });
    expect(events.events.length).toBe(before + 1);
    const text = await registry.metrics();
    expect(text).toMatch(/rrsa_webhook_missing_service_accounts_total 2/);
    expect(text).toMatch(/rrsa_webhook_admissions_total\{outcome="ServiceAccountMissing"\} 2/);
    expect(text).toMatch(/rrsa_webhook_admissions_total\{outcome="BadRequest"\} \d+/);
    expect(text).toMatch(
      /rrsa_webhook_admission_duration_seconds_bucket\{le="0.005",outcome="Injected"\} \d+/,
    );
    expect(text).toMatch(/rrsa_webhook_certificate_expiry_timestamp_seconds \d{10}/);
  });

  it('reports a lookup failure as LookupFailed, admitted without injection', async () => {
    lookup.failWith = new Error('timed out after 1000ms');
    try {
      const answer = (await call(server, { body: review(pod) })).json();
      expect(answer.response?.warnings).toEqual([
        'ServiceAccount shop/web could not be read (timed out after 1000ms): pod admitted without RRSA credentials',
      ]);
      expect(answer.response?.patch).toBeUndefined();
    } finally {
      lookup.failWith = undefined;
    }
  });

  it('reports an unreadable Namespace the same way, never as "not selected"', async () => {
    lookup.namespaceFailWith = new Error('GET namespace shop timed out after 1000ms');
    try {
      const answer = (await call(server, { body: review(pod) })).json();
      expect(answer.response?.warnings).toEqual([
        'Namespace shop could not be read (GET namespace shop timed out after 1000ms): pod admitted without RRSA credentials',
      ]);
      expect(events.events.at(-1)?.reason).toBe('RRSALookupFailed');
    } finally {
      lookup.namespaceFailWith = undefined;
    }
  });

  it('is ready only while the caches are synced', async () => {
    expect((await call(server, { path: '/healthz', method: 'GET' })).body).toBe('ok');
    expect((await call(server, { path: '/readyz', method: 'GET' })).status).toBe(200);
    lookup.synced = false;
    expect((await call(server, { path: '/readyz', method: 'GET' })).status).toBe(503);
    lookup.synced = true;
  });

  it('rejects instead, when configured', async () => {
    const strict = await startWebhookServer({
      ...base,
      registry: new Registry(),
      missingServiceAccount: 'reject',
    });
    try {
      const orphan = { ...pod, spec: { ...pod.spec, serviceAccountName: 'ghost' } };
      const answer = (await call(strict, { body: review(orphan) })).json();
      expect(answer.response).toMatchObject({
        allowed: false,
        status: { code: 403, reason: 'Forbidden' },
      });
      expect(answer.response?.status?.message).toContain('ServiceAccount shop/ghost not found');
    } finally {
      await strict.close();
    }
  });
});

function tlsVersion(
  port: number,
  maxVersion: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3',
  caPem: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, ca: caPem, minVersion: 'TLSv1', maxVersion },
      () => {
        const version = socket.getProtocol() ?? '';
        const serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
        socket.end();
        resolve(`${version} ${serial}`);
      },
    );
    socket.on('error', reject);
  });
}

/**
 * A server whose ServiceAccount reads block until the test lets each go (`pending`), so
 * admissions pile up at the gate; `reads` counts the reads, one per admission let in.
 */
async function blockingServer(maxConcurrentAdmissions: number, registry = new Registry()) {
  const lookup = new MemoryLookup();
  lookup.namespaces.set('shop', {
    metadata: { name: 'shop', labels: { 'pod-identity.alibabacloud.com/injection': 'on' } },
  });
  const state = { pending: [] as (() => void)[], reads: 0 };
  lookup.serviceAccount = () => {
    state.reads++;
    return new Promise((resolve) => state.pending.push(() => resolve(undefined)));
  };
  const server = await startWebhookServer({
    host: '127.0.0.1',
    port: 0,
    certificates: { current: () => serving, subscribe: () => () => undefined },
    lookup,
    registry,
    injection: defaultInjectionConfig({ accountId: '1', clusterId: 'c' }),
    missingServiceAccount: 'admit',
    maxConcurrentAdmissions,
  });
  return { server, state };
}

describe('admission server concurrency', () => {
  it('runs at most maxConcurrentAdmissions at once; the rest wait in order, probes do not', async () => {
    const { server, state } = await blockingServer(2);
    const { pending } = state;
    try {
      const answered: number[] = [];
      const calls = [0, 1, 2].map((i) =>
        call(server, { body: review(pod) }).then((reply) => {
          answered.push(i);
          return reply;
        }),
      );
      const until = async (check: () => boolean): Promise<void> => {
        for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
      };
      await until(() => state.reads === 2);
      await new Promise((r) => setTimeout(r, 100));
      expect(state.reads).toBe(2); // the third waits at the gate, its body unread
      expect((await call(server, { method: 'GET', path: '/healthz' })).status).toBe(200);
      pending.shift()!();
      await until(() => state.reads === 3);
      expect(state.reads).toBe(3); // one answered: the third gets its slot
      pending.splice(0).forEach((release) => release());
      await until(() => pending.length > 0);
      pending.splice(0).forEach((release) => release());
      const replies = await Promise.all(calls);
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(answered).toHaveLength(3);
    } finally {
      await server.close();
    }
  });
});

describe('admission server connection parking', () => {
  it('reads no request from an idle connection while every slot is taken, and wakes it when one frees', async () => {
    const registry = new Registry();
    const { server, state } = await blockingServer(1, registry);
    const { pending } = state;
    // One keep-alive connection per client, as the apiserver's transport keeps them; TLS 1.2 or
    // 1.3, whatever the two negotiate.
    const agentA = new Agent({ keepAlive: true, maxSockets: 1 });
    const agentB = new Agent({ keepAlive: true, maxSockets: 1 });
    const queue = async (): Promise<Record<string, number>> => {
      const metrics = await registry.getMetricsAsJSON();
      const value = (name: string): number =>
        metrics.find((m) => m.name === name)?.values[0]?.value ?? NaN;
      return {
        active: value('rrsa_webhook_admissions_in_progress'),
        waiting: value('rrsa_webhook_admissions_waiting'),
        parked: value('rrsa_webhook_connections_parked'),
      };
    };
    const until = async (check: () => boolean | Promise<boolean>): Promise<void> => {
      for (let i = 0; i < 1000 && !(await check()); i++)
        await new Promise((r) => setTimeout(r, 10));
    };
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));
    try {
      const a1 = call(server, { body: review(pod), agent: agentA });
      await until(() => state.reads === 1);
      // B's first request comes with its TLS handshake: read, and waiting its turn.
      const b1 = call(server, { body: review(pod), agent: agentB });
      await until(async () => (await queue()).waiting === 1);
      expect(state.reads).toBe(1);

      pending.shift()!(); // a1 answered; the slot passes to b1, so A's connection is parked
      expect((await a1).status).toBe(200);
      await until(() => state.reads === 2);
      const a2 = call(server, { body: review(pod), agent: agentA });
      await settle();
      expect(state.reads).toBe(2); // a2 is in the kernel's socket buffer, not in the process
      expect(await queue()).toEqual({ active: 1, waiting: 0, parked: 1 });

      pending.shift()!(); // b1 answered: the slot frees, A wakes and a2 is read
      expect((await b1).status).toBe(200);
      await until(() => state.reads === 3);
      expect(await queue()).toEqual({ active: 1, waiting: 0, parked: 0 });

      // B went idle while the slot was free, so it kept reading: b2 is read and waits.
      const b2 = call(server, { body: review(pod), agent: agentB });
      await until(async () => (await queue()).waiting === 1);
      pending.shift()!(); // a2 answered; b2 gets the slot
      await until(() => state.reads === 4);
      pending.shift()!();
      const replies = await Promise.all([a2, b2]);
      expect(replies.map((r) => r.status)).toEqual([200, 200]);
      await until(async () => (await queue()).parked === 0);
      expect(await queue()).toEqual({ active: 0, waiting: 0, parked: 0 });
    } finally {
      agentA.destroy();
      agentB.destroy();
      await server.close();
    }
  });
});

describe('admission server TLS', () => {
  const lookup = new MemoryLookup();
  const options = (extra: Partial<WebhookServerOptions>): WebhookServerOptions => ({
    host: '127.0.0.1',
    port: 0,
    certificates: { current: () => serving, subscribe: () => () => undefined },
    lookup,
    registry: new Registry(),
    injection: defaultInjectionConfig({ accountId: '1', clusterId: 'c' }),
    missingServiceAccount: 'admit',
    ...extra,
  });

  it('refuses TLS below 1.2 by default and below the configured minimum', async () => {
    const server = await startWebhookServer(options({}));
    try {
      await expect(tlsVersion(server.port, 'TLSv1.1', ca.certPem)).rejects.toThrow();
      expect(await tlsVersion(server.port, 'TLSv1.2', ca.certPem)).toMatch(/^TLSv1\.2 /);
    } finally {
      await server.close();
    }
    const strict = await startWebhookServer(options({ minTlsVersion: 'TLSv1.3' }));
    try {
      await expect(tlsVersion(strict.port, 'TLSv1.2', ca.certPem)).rejects.toThrow();
      expect(await tlsVersion(strict.port, 'TLSv1.3', ca.certPem)).toMatch(/^TLSv1\.3 /);
    } finally {
      await strict.close();
    }
  });

  it('serves a renewed certificate from files without a restart, and ignores a broken pair', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-certs-'));
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    const write = (pair: CertifiedKey): void => {
      writeFileSync(certFile, pair.certPem);
      writeFileSync(keyFile, pair.keyPem);
    };
    const serial = (pair: CertifiedKey): string => new X509Certificate(pair.certPem).serialNumber;
    write(serving);
    const errors: unknown[] = [];
    const files = new CertificateFiles({
      certFile,
      keyFile,
      intervalMs: 3_600_000,
      onError: (e) => errors.push(e),
    });
    await files.start();
    const server = await startWebhookServer(options({ certificates: files }));
    try {
      expect(await tlsVersion(server.port, 'TLSv1.3', ca.certPem)).toBe(
        `TLSv1.3 ${serial(serving)}`,
      );
      const renewed = issueCertificate(ca, { commonName: 'webhook', ipAddresses: ['127.0.0.1'] });
      write(renewed);
      expect(await files.reload()).toBe(true);
      expect(await tlsVersion(server.port, 'TLSv1.3', ca.certPem)).toBe(
        `TLSv1.3 ${serial(renewed)}`,
      );
      // A key from another pair (cert-manager mid-write): kept the working one.
      writeFileSync(keyFile, serving.keyPem);
      expect(await files.reload()).toBe(false);
      expect(errors).toHaveLength(1);
      expect(await tlsVersion(server.port, 'TLSv1.3', ca.certPem)).toBe(
        `TLSv1.3 ${serial(renewed)}`,
      );
    } finally {
      files.stop();
      await server.close();
    }
  });
});
