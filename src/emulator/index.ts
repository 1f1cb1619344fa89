import { writeFile } from 'node:fs/promises';
import { ADMIN_PREFIX, handleAdmin } from './admin.ts';
import { NonceCache } from './auth.ts';
import { generateTlsMaterial, type TlsMaterial } from './certs.ts';
import { createControls, type EmulatorControls, type RamUserSpec } from './controls.ts';
import { ApiDispatcher } from './dispatch.ts';
import { FaultInjector } from './faults.ts';
import { IMS_ACTIONS } from './ims.ts';
import { Clock, IdSource } from './ids.ts';
import { type IssuerOverride, JwksClient } from './jwks.ts';
import { POLICY_ACTIONS } from './ram-policies.ts';
import { ROLE_ACTIONS } from './ram-roles.ts';
import { TAG_ACTIONS } from './ram-tags.ts';
import { RequestRecorder } from './recorder.ts';
import { listen } from './server.ts';
import { DEFAULT_QUOTAS, EmulatorState, type Quotas } from './state.ts';
import { STS_ACTIONS } from './sts.ts';

/**
 * The local Alibaba Cloud (RAM 2015-05-01, STS 2015-04-01, IMS 2019-08-15) that the unmodified
 * @alicloud SDKs talk to: `new Ram(new Config({accessKeyId, accessKeySecret,
 * endpoint: emulator.endpoint, protocol: 'http'}))`. See docs/emulator.md.
 */

export type { EmulatorControls, RamUserSpec } from './controls.ts';
export type { FaultRule, FaultSpec } from './faults.ts';
export type { IssuerOverride } from './jwks.ts';
export type { CountersSnapshot, RequestFilter, RequestRecord } from './recorder.ts';
export type { Quotas, StateDump } from './state.ts';

export const DEFAULT_ACCOUNT_ID = '1234567890123456';
export const DEFAULT_ACCESS_KEY = {
  accessKeyId: 'LTAI5tEmulatorRootKey001',
  accessKeySecret: 'emulator-root-secret-000000000',
};

export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Also speak HTTPS on the same port, with a generated CA (default false). */
  https?: boolean;
  /** Reuse a CA and server certificate instead of generating them. */
  tls?: TlsMaterial;
  /** Extra DNS names / IPs for the server certificate (127.0.0.1, ::1, localhost are always in). */
  tlsHosts?: string[];
  /** Write the CA certificate (PEM) here once listening. */
  caOutFile?: string;
  accountId?: string;
  /** Seeds RoleIds, RequestIds, STS keys and fault rates (default "rrsa-emulator"). */
  seed?: string | number;
  /** Long-term keys of the account (allowed everything); default DEFAULT_ACCESS_KEY. */
  accessKeys?: AccessKey[];
  users?: RamUserSpec[];
  issuerOverrides?: Record<string, IssuerOverride>;
  quotas?: Partial<Quotas>;
  /** Accepted skew of x-acs-date / Timestamp against the wall clock; 0 disables (default 900). */
  timestampWindowSeconds?: number;
  /** How long an issuer's JWKS is cached (default 60). */
  jwksCacheSeconds?: number;
  /** Time source for the emulator clock (default Date.now). */
  now?: () => number;
  /** Request-log ring size (default 5000). */
  requestLogLimit?: number;
  /** Diagnostic output (internal errors); default silent. */
  log?: (message: string) => void;
}

export interface Emulator {
  /** `127.0.0.1:PORT`: what the SDKs take as `endpoint` (host[:port] only, reference §2.1). */
  endpoint: string;
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT`, for the admin endpoints. */
  url: string;
  /** `https://127.0.0.1:PORT` when HTTPS is on. */
  httpsUrl: string | undefined;
  /** The CA to trust for HTTPS (also written to `caOutFile`). */
  caPem: string | undefined;
  accountId: string;
  /** The first long-term account key. */
  accessKey: AccessKey;
  state: EmulatorState;
  controls: EmulatorControls;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const seed = String(options.seed ?? 'rrsa-emulator');
  const clock = new Clock(options.now);
  const ids = new IdSource(seed);
  const faultIds = new IdSource(`${seed}:faults`);
  const state = new EmulatorState(accountId, { ...DEFAULT_QUOTAS, ...options.quotas });
  const accessKeys = options.accessKeys?.length ? options.accessKeys : [DEFAULT_ACCESS_KEY];
  for (const key of accessKeys) state.accountKeys.set(key.accessKeyId, key.accessKeySecret);
  const jwks = new JwksClient({
    overrides: options.issuerOverrides ?? {},
    cacheMs: (options.jwksCacheSeconds ?? 60) * 1000,
  });
  const faults = new FaultInjector(() => faultIds.float());
  const recorder = new RequestRecorder(options.requestLogLimit);
  const nonces = new NonceCache();
  const controls = createControls({
    state,
    ids,
    clock,
    jwks,
    faults,
    recorder,
    nonces,
    initialUsers: options.users ?? [],
  });
  const dispatcher = new ApiDispatcher({
    state,
    ids,
    clock,
    jwks,
    faults,
    recorder,
    actions: [...ROLE_ACTIONS, ...POLICY_ACTIONS, ...TAG_ACTIONS, ...STS_ACTIONS, ...IMS_ACTIONS],
    auth: {
      timestampWindowMs: (options.timestampWindowSeconds ?? 900) * 1000,
      wallClock: Date.now,
      now: () => clock.now(),
      nonces,
    },
    ...(options.log ? { log: options.log } : {}),
  });
  const tls = options.tls ?? (options.https ? generateTlsMaterial(options.tlsHosts) : undefined);
  let info: Record<string, unknown> = {};
  const server = await listen(
    { host, port: options.port ?? 0, tls },
    (request) =>
      request.url.startsWith(`${ADMIN_PREFIX}/`) || request.url === ADMIN_PREFIX
        ? Promise.resolve(handleAdmin(request, controls, () => info))
        : dispatcher.handle(request),
    options.log,
  );
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const endpoint = `${hostPart}:${server.port}`;
  info = {
    endpoint,
    accountId,
    https: tls !== undefined,
    ...(tls ? { caPem: tls.caCertPem } : {}),
  };
  if (tls && options.caOutFile) await writeFile(options.caOutFile, tls.caCertPem);
  return {
    endpoint,
    host,
    port: server.port,
    url: `http://${endpoint}`,
    httpsUrl: tls ? `https://${endpoint}` : undefined,
    caPem: tls?.caCertPem,
    accountId,
    accessKey: accessKeys[0] ?? DEFAULT_ACCESS_KEY,
    state,
    controls,
    close: () => server.close(),
  };
}
