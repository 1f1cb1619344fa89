import type { Accounts } from './accounts.ts';
import type { NonceCache } from './auth.ts';
import { alreadyAttached, notAttached } from './errors.ts';
import type { FaultInjector, FaultSpec } from './faults.ts';
import { isoSeconds } from './ids.ts';
import type { Clock, IdSource } from './ids.ts';
import type { IssuerOverride, JwksClient } from './jwks.ts';
import type {
  CountersSnapshot,
  RequestFilter,
  RequestRecord,
  RequestRecorder,
} from './recorder.ts';
import type { EmulatorState, PolicyType, RamUserRecord, StateDump } from './state.ts';

/**
 * The test controls, shared by the programmatic API and the admin HTTP endpoints: request log
 * and counters, fault injection, the clock, issuer overrides, users and resets.
 */

export interface RamUserSpec {
  name: string;
  accessKeyId: string;
  accessKeySecret: string;
  policies?: { type: PolicyType; name: string }[];
  /** The account the user lives in; default the home account. */
  accountId?: string;
}

export interface EmulatorControls {
  /** Every API request recorded so far (the newest 5,000), optionally filtered. */
  requests(filter?: RequestFilter): RequestRecord[];
  /** How many recorded requests match, e.g. `count({service: 'ram', write: true})`. */
  count(filter?: RequestFilter): number;
  /** Exact totals since the last reset: calls, reads, writes, errors; per service and action. */
  counters(): CountersSnapshot;
  /** The sequence number of the latest request; pass as `since` to look only after it. */
  lastSeq(): number;
  /** Forget the request log and counters only. */
  resetLog(): void;
  /** Back to a fresh account: resources, sessions, users, log, faults, clock, JWKS cache, seeded ids. */
  reset(): void;
  faults: FaultInjector;
  /** Move the emulator clock (token and session expiry) forward. */
  advanceTime(seconds: number): void;
  setIssuerOverride(issuer: string, override: IssuerOverride | undefined): void;
  issuerOverrides(): Record<string, IssuerOverride>;
  /** A RAM user with its own AccessKey, authorised by the attached policies. */
  addUser(spec: RamUserSpec): RamUserRecord;
  setUserPolicies(name: string, policies: { type: PolicyType; name: string }[]): void;
  addAccessKey(accessKeyId: string, accessKeySecret: string): void;
  /**
   * Attach / detach a policy to / from a role behind the API's back (no request is logged),
   * e.g. to show "remove the policy -> 403". Throws the API's errors (EntityNotExist.Role, ...).
   */
  attachPolicy(roleName: string, policyName: string, type?: PolicyType, accountId?: string): void;
  detachPolicy(roleName: string, policyName: string, type?: PolicyType, accountId?: string): void;
  /** Everything an account (default the home account) holds, as plain JSON. */
  dump(accountId?: string): StateDump;
  /** The ids of every account, the home account first. */
  accountIds(): string[];
}

export interface ControlDeps {
  accounts: Accounts;
  ids: IdSource;
  /** The seeded streams reset() rewinds (ids, fault draws). */
  streams: IdSource[];
  clock: Clock;
  jwks: JwksClient;
  faults: FaultInjector;
  recorder: RequestRecorder;
  nonces: NonceCache;
  initialUsers: RamUserSpec[];
  initialFaults: FaultSpec[];
}

export function createControls(deps: ControlDeps): EmulatorControls {
  const { accounts, ids, recorder } = deps;
  const account = (accountId: string | undefined): EmulatorState => {
    if (accountId === undefined) return accounts.home;
    const found = accounts.get(accountId);
    if (!found) throw new Error(`no such account: ${accountId}`);
    return found;
  };
  const addUser = (spec: RamUserSpec): RamUserRecord => {
    const state = account(spec.accountId);
    const user: RamUserRecord = {
      name: spec.name,
      userId: `2${ids.digits(15)}`,
      accessKeyId: spec.accessKeyId,
      accessKeySecret: spec.accessKeySecret,
      policies: (spec.policies ?? []).map((p) => ({ ...p, attachDate: '2024-01-01T00:00:00Z' })),
    };
    state.users.set(spec.name.toLowerCase(), user);
    return user;
  };
  const seedState = (): void => {
    for (const user of deps.initialUsers) addUser(user);
    for (const fault of deps.initialFaults) deps.faults.add(fault);
  };
  const findAttachment = (
    roleName: string,
    policyName: string,
    type: PolicyType,
    accountId: string | undefined,
  ) => {
    const state = account(accountId);
    const role = state.requireRole(roleName);
    const policy = state.requirePolicy(type, policyName);
    const lower = policy.name.toLowerCase();
    const index = role.policies.findIndex((p) => p.type === type && p.name.toLowerCase() === lower);
    return { role, policy, index };
  };
  seedState();
  return {
    requests: (filter) => recorder.entries(filter),
    count: (filter) => recorder.count(filter),
    counters: () => recorder.counters(),
    lastSeq: () => recorder.lastSeq,
    resetLog: () => recorder.clear(),
    reset: () => {
      for (const state of accounts.all()) state.clear();
      recorder.clear();
      deps.faults.clear();
      deps.clock.reset();
      deps.jwks.clearCache();
      deps.nonces.clear();
      for (const stream of deps.streams) stream.reset();
      seedState();
    },
    faults: deps.faults,
    advanceTime: (seconds) => deps.clock.advance(seconds * 1000),
    setIssuerOverride: (issuer, override) => deps.jwks.setOverride(issuer, override),
    issuerOverrides: () => deps.jwks.listOverrides(),
    addUser,
    setUserPolicies: (name, policies) => {
      const user = accounts
        .all()
        .map((s) => s.users.get(name.toLowerCase()))
        .find((u) => u !== undefined);
      if (!user) throw new Error(`no such user: ${name}`);
      user.policies = policies.map((p) => ({ ...p, attachDate: '2024-01-01T00:00:00Z' }));
    },
    addAccessKey: (id, secret) => {
      accounts.home.accountKeys.set(id, secret);
    },
    attachPolicy: (roleName, policyName, type = 'Custom', accountId = undefined) => {
      const { role, policy, index } = findAttachment(roleName, policyName, type, accountId);
      if (index >= 0) throw alreadyAttached();
      role.policies.push({ type, name: policy.name, attachDate: isoSeconds(deps.clock.now()) });
    },
    detachPolicy: (roleName, policyName, type = 'Custom', accountId = undefined) => {
      const { role, index } = findAttachment(roleName, policyName, type, accountId);
      if (index < 0) throw notAttached();
      role.policies.splice(index, 1);
    },
    dump: (accountId) => account(accountId).dump(),
    accountIds: () => accounts.all().map((s) => s.accountId),
  };
}
