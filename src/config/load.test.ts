import { DEFAULT_DENIED_ACTIONS } from '../identity/policy-grants.ts';
import { ConfigError, loadConfig, renderHelp } from './load.ts';

const base = { argv: ['--cluster-id=c1'], env: {} };

describe('loadConfig', () => {
  it('applies defaults and parses durations and lists', () => {
    const config = loadConfig({
      argv: [
        '--cluster-id',
        'c1',
        '--resync=2m',
        '--denied-policies=System:A, Custom:b',
        '--allow-adoption',
      ],
      env: {},
    });
    expect(config).toMatchObject({
      clusterId: 'c1',
      region: 'cn-hangzhou',
      resync: 120,
      deniedPolicies: ['System:A', 'Custom:b'],
      allowAdoption: true,
      ramQps: 10,
    });
  });

  it('reads --denied-actions from a flag, the env or a YAML list, defaulting to the built-in list', () => {
    expect(loadConfig(base).deniedActions).toEqual([...DEFAULT_DENIED_ACTIONS]);
    expect(
      loadConfig({ ...base, argv: ['--cluster-id=c1', '--denied-actions=ram:*, sts:*'] }),
    ).toMatchObject({ deniedActions: ['ram:*', 'sts:*'] });
    expect(loadConfig({ ...base, env: { RRSA_DENIED_ACTIONS: 'ims:*' } }).deniedActions).toEqual([
      'ims:*',
    ]);
    expect(
      loadConfig({
        argv: ['--config=/c.yaml'],
        env: {},
        readFile: () => 'clusterId: c1\ndeniedActions:\n  - "ram:*"\n  - "oss:Put*"\n',
      }).deniedActions,
    ).toEqual(['ram:*', 'oss:Put*']);
  });

  it('lets flags beat env beat the file', () => {
    const config = loadConfig({
      argv: ['--config=/c.yaml', '--ram-qps=5'],
      env: { RRSA_RAM_QPS: '7', RRSA_CONCURRENCY: '3', ALIBABA_CLOUD_REGION_ID: 'cn-beijing' },
      readFile: () => 'clusterId: from-file\nconcurrency: 9\nramQps: 8\n',
    });
    expect(config).toMatchObject({
      clusterId: 'from-file',
      ramQps: 5,
      concurrency: 3,
      region: 'cn-beijing',
    });
  });

  it.each([
    [{ argv: [], env: {} }, '--cluster-id (env RRSA_CLUSTER_ID) is required'],
    [
      { ...base, argv: ['--cluster-id=c1', '--ram-qps=0'] },
      '--ram-qps (env RRSA_RAM_QPS): must be > 0 (from flag --ram-qps; got 0)',
    ],
    [
      { ...base, env: { RRSA_CONCURRENCY: 'lots' } },
      'env RRSA_CONCURRENCY: "lots" is not a number',
    ],
    [{ ...base, env: { RRSA_RESYNC: '10 minutes' } }, 'is not a duration: use for example 30s'],
    [
      { ...base, argv: ['--cluster-id=c1', '--log-level=chatty'] },
      '--log-level (env RRSA_LOG_LEVEL): must be one of error, warn, info, debug',
    ],
    [{ ...base, argv: ['--cluster-id=c1', '--no-such-flag=1'] }, 'unknown flag --no-such-flag'],
    [
      { ...base, argv: ['--cluster-id=c1', '--issuer-url=http://x'] },
      '--issuer-url (env RRSA_ISSUER_URL): must match pattern',
    ],
  ])('rejects bad input naming the field: %j', (input, expected) => {
    expect(() => loadConfig(input)).toThrow(ConfigError);
    expect(() => loadConfig(input)).toThrow(expected);
  });

  it('renders help for every option', () => {
    expect(renderHelp()).toContain('--ram-qps  [RRSA_RAM_QPS]');
    expect(renderHelp()).toContain('(default rrsa-)');
  });
});

describe('the option table covers the manager', () => {
  it('declares every setting the manager reads, with a usable default', () => {
    const config = loadConfig({ argv: ['--cluster-id=c1'], env: {} });
    const required: Record<string, string> = {
      region: 'string',
      roleNamePrefix: 'string',
      endpointProtocol: 'string',
      vpcEndpoints: 'boolean',
      resync: 'number',
      ramQps: 'number',
      ramBurst: 'number',
      concurrency: 'number',
      allowedPolicies: 'object',
      deniedPolicies: 'object',
      deniedActions: 'object',
      allowedRoleNames: 'object',
      allowAdoption: 'boolean',
      podChecks: 'boolean',
      allowPodRestart: 'boolean',
      namespace: 'string',
      leaderElect: 'boolean',
      leaseDuration: 'number',
      metricsPort: 'number',
      healthPort: 'number',
      logLevel: 'string',
      webhook: 'boolean',
      webhookPort: 'number',
      webhookCertMode: 'string',
      webhookCertDir: 'string',
      webhookIpAddresses: 'object',
      webhookMinTls: 'string',
      missingServiceAccount: 'string',
      injectStsEnv: 'boolean',
    };
    for (const [key, type] of Object.entries(required))
      expect([key, typeof config[key]]).toEqual([key, type]);
    expect(
      loadConfig({ argv: ['--cluster-id=c1', '--binding-selector=shard=a'], env: {} })
        .bindingSelector,
    ).toBe('shard=a');
  });
});
