import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Accounts } from './accounts.ts';
import { ADMIN_PREFIX, handleAdmin } from './admin.ts';
import { NonceCache } from './auth.ts';
import { generateTlsMaterial } from './certs.ts';
import { createControls, type EmulatorControls, type RamUserSpec } from './controls.ts';
import { ApiDispatcher } from './dispatch.ts';
import { FaultInjector, type FaultSpec } from './faults.ts';
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
 * endpoint: emulator.endpoint, protocol: 'http'}))`. Start with `start()`; see the package README.md.
 */

export type { EmulatorControls, RamUserSpec } from './controls.ts';
export type { FaultRule, FaultSpec } from './faults.ts';
export type { IssuerOverride } from './jwks.ts';
export type { CountersSnapshot, RequestFilter, RequestRecord } from './recorder.ts';
export type { PolicyType, Quotas, StateDump } from './state.ts';

export const DEFAULT_ACCOUNT_ID = '1234567890123456';
export const DEFAULT_ROOT_KEY: AccessKey = {
  accessKeyId: 'LTAI5tEmulatorRootKey001',
  accessKeySecret: 'emulator-root-secret-000000000',
};

export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
}

/** A further Alibaba Cloud account: its own root key, RAM, IMS providers and STS sessions. */
export interface AccountSpec {
  accountId: string;
  rootKey: AccessKey;
  accessKeys?: AccessKey[];
}

export interface StartOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Also speak HTTPS on the same port, with a generated CA (default false). */
  https?: boolean;
  /** Extra DNS names / IPs for the server certificate (127.0.0.1, ::1, localhost are always in). */
  tlsHosts?: string[];
  /** Where to write the CA (PEM) with https on; default a temporary file removed by stop(). */
  caFile?: string;
  accountId?: string;
  /**
   * Seeds RoleIds, RequestIds, STS keys and fault rates. Without it every start draws a random
   * seed, so two runs never hand out the same request ids (a log line names one request); pass
   * one to repeat a run exactly.
   */
  seed?: string | number;
  /** The account's own AccessKey (allowed everything); default DEFAULT_ROOT_KEY. */
  rootKey?: AccessKey;
  /** Further account AccessKeys. */
  accessKeys?: AccessKey[];
  /** Further accounts beside the home one (`accountId`); keys must not repeat across accounts. */
  accounts?: AccountSpec[];
  /** RAM users with their own AccessKey, authorised by their policies. */
  users?: RamUserSpec[];
  /** Issuer URL -> where to fetch its discovery document / JWKS and which CA to trust. */
  issuerOverrides?: Record<string, IssuerOverride>;
  /** Fault rules installed at start (and again after reset()). */
  faults?: FaultSpec[];
  quotas?: Partial<Quotas>;
  /** Accepted skew of x-acs-date / Timestamp against the wall clock; 0 disables (default 900). */
  timestampWindowSeconds?: number;
  /** How long an issuer's JWKS is cached (default 60). */
  jwksCacheSeconds?: number;
  /** Request-log ring size (default 5000). */
  requestLogLimit?: number;
  /** Diagnostic output (internal errors); default silent. */
  log?: (message: string) => void;
}

export interface RunningEmulator {
  /** `127.0.0.1:PORT`: what the SDKs take as `endpoint` (host[:port] only, reference §2.1). */
  endpoint: string;
  port: number;
  /** `http://127.0.0.1:PORT`; the admin endpoints are under `${url}/__emulator/`. */
  url: string;
  /** `https://127.0.0.1:PORT` when HTTPS is on (same port as http). */
  httpsUrl: string | undefined;
  /** The CA to trust for HTTPS, as PEM and as a file (for NODE_EXTRA_CA_CERTS). */
  caPem: string | undefined;
  caFile: string | undefined;
  accountId: string;
  /** The account's own AccessKey. */
  rootKey: AccessKey;
  /** Every account with its root key, the home account first. */
  accounts: { accountId: string; rootKey: AccessKey }[];
  /** The seed in use (random unless given): pass it back to `start` to repeat a run. */
  seed: string;
  controls: EmulatorControls;
  /** Closes the port and every open connection; removes a temporary CA file. */
  stop(): Promise<void>;
}

async function writeCa(
  pem: string,
  file: string | undefined,
): Promise<{ file: string; tmp?: string }> {
  if (file) {
    await writeFile(file, pem);
    return { file };
  }
  const tmp = await mkdtemp(join(tmpdir(), 'rrsa-emulator-'));
  await writeFile(join(tmp, 'ca.pem'), pem);
  return { file: join(tmp, 'ca.pem'), tmp };
}

function buildAccounts(options: StartOptions): Accounts {
  const quotas = { ...DEFAULT_QUOTAS, ...options.quotas };
  const withKeys = (accountId: string, keys: AccessKey[]): EmulatorState => {
    const state = new EmulatorState(accountId, quotas);
    for (const key of keys) state.accountKeys.set(key.accessKeyId, key.accessKeySecret);
    return state;
  };
  const home = withKeys(options.accountId ?? DEFAULT_ACCOUNT_ID, [
    options.rootKey ?? DEFAULT_ROOT_KEY,
    ...(options.accessKeys ?? []),
  ]);
  const others = (options.accounts ?? []).map((a) =>
    withKeys(a.accountId, [a.rootKey, ...(a.accessKeys ?? [])]),
  );
  const keys = [home, ...others].flatMap((s) => [...s.accountKeys.keys()]);
  const repeated = keys.find((k, i) => keys.indexOf(k) !== i);
  if (repeated) throw new Error(`access key ${repeated} is given to more than one account`);
  return new Accounts(home, others);
}

/** The in-memory accounts, their controls and the API dispatcher (no sockets yet). */
function assemble(
  options: StartOptions,
  seed: string,
): {
  controls: EmulatorControls;
  dispatcher: ApiDispatcher;
} {
  const clock = new Clock();
  const ids = new IdSource(seed);
  const accounts = buildAccounts(options);
  const jwks = new JwksClient({
    overrides: options.issuerOverrides ?? {},
    cacheMs: (options.jwksCacheSeconds ?? 60) * 1000,
  });
  const faultIds = new IdSource(`${seed}:faults`);
  const faults = new FaultInjector(() => faultIds.float());
  const recorder = new RequestRecorder(options.requestLogLimit);
  const nonces = new NonceCache();
  const controls = createControls({
    accounts,
    ids,
    streams: [ids, faultIds],
    clock,
    jwks,
    faults,
    recorder,
    nonces,
    initialUsers: options.users ?? [],
    initialFaults: options.faults ?? [],
  });
  const dispatcher = new ApiDispatcher({
    accounts,
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
  return { controls, dispatcher };
}

function accountList(
  accountId: string,
  rootKey: AccessKey,
  others: AccountSpec[] | undefined,
): RunningEmulator['accounts'] {
  const rest = (others ?? []).map((a) => ({ accountId: a.accountId, rootKey: a.rootKey }));
  return [{ accountId, rootKey }, ...rest];
}

/** Starts an emulator; `stop()` it when done. */
export async function start(options: StartOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const seed = String(options.seed ?? randomBytes(8).toString('hex'));
  const { controls, dispatcher } = assemble(options, seed);
  const tls = options.https ? generateTlsMaterial(options.tlsHosts) : undefined;
  let info: Record<string, unknown> = {};
  const server = await listen(
    { host, port: options.port ?? 0, tls },
    (request) =>
      request.url.startsWith(`${ADMIN_PREFIX}/`) || request.url === ADMIN_PREFIX
        ? Promise.resolve(handleAdmin(request, controls, () => info))
        : dispatcher.handle(request),
    options.log,
  );
  const endpoint = `${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  const ca = tls ? await writeCa(tls.caCertPem, options.caFile) : undefined;
  const rootKey = options.rootKey ?? DEFAULT_ROOT_KEY;
  const accounts = accountList(accountId, rootKey, options.accounts);
  info = {
    endpoint,
    accountId,
    accounts: accounts.map((a) => a.accountId),
    seed,
    https: tls !== undefined,
    caFile: ca?.file,
    caPem: tls?.caCertPem,
  };
  return {
    endpoint,
    port: server.port,
    url: `http://${endpoint}`,
    httpsUrl: tls ? `https://${endpoint}` : undefined,
    caPem: tls?.caCertPem,
    caFile: ca?.file,
    accountId,
    rootKey,
    accounts,
    seed,
    controls,
    stop: async () => {
      await server.close();
      if (ca?.tmp) await rm(ca.tmp, { recursive: true, force: true });
    },
  };
}
