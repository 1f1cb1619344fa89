// Tests run as CommonJS through @swc/jest (fast, no type-check: `npm run typecheck` does that).
// @kubernetes/client-node 2.x and a few of its dependencies are ESM-only, so they are transformed
// too; see docs/adr/0002-runtime-and-tests.md.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'commonjs' },
  },
];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swc },
  transformIgnorePatterns: [
    '/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose|socks-proxy-agent|agent-base)/)',
  ],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The emulator workspace package (@rrsa-operator/alibaba-cloud-emulator) needs no entry here:
  // jest resolves the node_modules symlink to its realpath under packages/, which
  // transformIgnorePatterns does not match, so it is transformed like any other source file.
};

export default {
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  projects: [
    {
      ...shared,
      displayName: 'unit',
      // A hang guard, not a timing assertion: key generation in the TLS tests takes seconds on a busy 2-core machine.
      testTimeout: 20_000,
      testMatch: [
        '<rootDir>/src/**/*.test.ts',
        '<rootDir>/test/unit/**/*.test.ts',
        '<rootDir>/devenv/**/*.test.ts',
        '<rootDir>/packages/*/test/**/*.test.ts',
      ],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
      slowTestThreshold: 30,
    },
    {
      ...shared,
      // A real node (kubelet + containerd, root): its own project, since it owns the bridge
      // 10.213.0.1/24 and port 443 there, and starts its own control plane.
      displayName: 'node',
      testMatch: ['<rootDir>/test/node/**/*.test.ts'],
      testTimeout: 120_000,
      slowTestThreshold: 300,
    },
  ],
};
