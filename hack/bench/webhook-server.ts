// The webhook server process of bench:webhook (hack/bench/webhook.ts bundles this file and forks
// it): the product's admission server with a static certificate and an in-memory IdentityLookup,
// answering 'stats' and 'stop' messages from the load generator.
import { getHeapSpaceStatistics } from 'node:v8';
import { Registry } from 'prom-client';
import type { CertifiedKey } from '../../src/webhook/certs/pki.ts';
import { staticCertificates } from '../../src/webhook/certs/source.ts';
import { defaultInjectionConfig } from '../../src/webhook/config.ts';
import type { IdentityLookup } from '../../src/webhook/ports.ts';
import { startWebhookServer } from '../../src/webhook/server.ts';

export interface Ready {
  port: number;
  caPem: string;
  path: string;
}
export interface Stats {
  cpuMicros: number;
  rss: number;
  /** V8 heap in use and committed (old + young + code + large objects). */
  heapUsed: number;
  heapTotal: number;
  /** Buffers and other memory V8 accounts outside its heap (socket and TLS buffers). */
  external: number;
  /** Committed bytes per V8 heap space (new_space, old_space, large_object_space, ...). */
  spaces: Record<string, number>;
}

const PROCESSES = Number(argValue('--processes') ?? 1);

function argValue(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at < 0 ? undefined : process.argv[at + 1];
}

async function serve(): Promise<void> {
  // The certificate comes from the parent: every process serves the same one.
  const { ca, cert } = JSON.parse(process.env.BENCH_CERTS!) as {
    ca: CertifiedKey;
    cert: CertifiedKey;
  };
  const lookup: IdentityLookup = {
    serviceAccount: (namespace, name) =>
      Promise.resolve({
        metadata: {
          name,
          namespace,
          annotations: { 'pod-identity.alibabacloud.com/role-name': 'bench-role' },
        },
      }),
    namespace: (name) =>
      Promise.resolve({
        metadata: { name, labels: { 'pod-identity.alibabacloud.com/injection': 'on' } },
      }),
    hasSynced: () => true,
  };
  const server = await startWebhookServer({
    host: '127.0.0.1',
    port: Number(argValue('--port') ?? 0),
    reusePort: PROCESSES > 1,
    certificates: staticCertificates(cert),
    lookup,
    registry: new Registry(),
    injection: defaultInjectionConfig({
      accountId: '1234567890123456',
      clusterId: 'c0123456789abcdef0123456789abcdef',
      stsEnv: { enabled: true, region: 'cn-hangzhou', vpcEndpoint: true },
    }),
    missingServiceAccount: 'admit',
    parkIdleConnections: !process.argv.includes('--no-park'),
    ...(argValue('--max-admissions')
      ? { maxConcurrentAdmissions: Number(argValue('--max-admissions')) }
      : {}),
  });
  process.on('message', (message) => {
    if (message === 'stats') {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      process.send!({
        cpuMicros: cpu.user + cpu.system,
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        heapTotal: memory.heapTotal,
        external: memory.external,
        spaces: Object.fromEntries(
          getHeapSpaceStatistics().map((space) => [space.space_name, space.physical_space_size]),
        ),
      } satisfies Stats);
    } else if (message === 'stop') {
      void server.close().then(() => process.exit(0));
    }
  });
  process.send!({
    port: server.port,
    caPem: ca.certPem,
    path: new URL(server.url).pathname,
  } satisfies Ready);
}

await serve();
