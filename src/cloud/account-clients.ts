import type { ImsPort, RamPort, SessionCredentials, StsPort } from './ports.ts';
import type { StaticCredentials } from './sdk-clients.ts';

/**
 * Ports into other Alibaba Cloud accounts, behind the same RamPort / ImsPort the controller
 * already uses: the operator chains `sts:AssumeRole` from its own credentials into the target
 * account's management role and builds clients on the session. Sessions are cached per account
 * until shortly before they expire (one AssumeRole per account per hour, not per reconcile), and
 * concurrent reconciles of one account share a single AssumeRole in flight.
 */

export interface AccountTarget {
  accountId: string;
  /** The management role's ARN in that account. */
  roleArn: string;
  externalId?: string | undefined;
}

export interface AccountPorts {
  ram: RamPort;
  ims: ImsPort;
}

export interface AccountClientsOptions {
  /** The operator's own STS (its RRSA credentials): AssumeRole is called here. */
  sts: StsPort;
  /** Builds the account's ports on a session (each account with its own RAM rate limiter). */
  build: (accountId: string, credentials: StaticCredentials) => AccountPorts;
  now?: () => number;
  /** RoleSessionName, which the target account's ActionTrail shows. */
  sessionName?: string;
  durationSeconds?: number;
  /** Renew this long before expiry (the credentials SDK uses 15 minutes too). */
  renewBeforeMs?: number;
}

interface Cached {
  key: string;
  ports: AccountPorts;
  expiresAt: number;
}

export class AccountClients {
  readonly #o: AccountClientsOptions;
  readonly #cache = new Map<string, Cached>();
  readonly #inFlight = new Map<string, Promise<Cached>>();

  constructor(options: AccountClientsOptions) {
    this.#o = options;
  }

  async ports(target: AccountTarget): Promise<AccountPorts> {
    const now = (this.#o.now ?? Date.now)();
    const key = JSON.stringify([target.roleArn, target.externalId ?? '']);
    const cached = this.#cache.get(target.accountId);
    const renewBefore = this.#o.renewBeforeMs ?? 15 * 60_000;
    if (cached && cached.key === key && cached.expiresAt - renewBefore > now) return cached.ports;
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#assume(target, key).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return (await pending).ports;
  }

  /** Forgets an account's session (its management role changed or was refused). */
  forget(accountId: string): void {
    this.#cache.delete(accountId);
  }

  async #assume(target: AccountTarget, key: string): Promise<Cached> {
    const { sts } = this.#o;
    if (!sts.assumeRole) throw new Error('the STS port cannot AssumeRole');
    const session: SessionCredentials = await sts.assumeRole({
      roleArn: target.roleArn,
      sessionName: this.#o.sessionName ?? 'rrsa-operator',
      externalId: target.externalId,
      durationSeconds: this.#o.durationSeconds ?? 3600,
    });
    const entry = {
      key,
      ports: this.#o.build(target.accountId, {
        accessKeyId: session.accessKeyId,
        accessKeySecret: session.accessKeySecret,
        securityToken: session.securityToken,
      }),
      expiresAt: session.expiration.getTime(),
    };
    this.#cache.set(target.accountId, entry);
    return entry;
  }
}

/**
 * A port whose every method first obtains the current one (a fresh session when the old one is
 * about to expire): the reconciler holds one RamPort per account for its whole life.
 */
export function lazyPort<T extends object>(current: () => Promise<T>): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      // Not a thenable: `await port` must not call into the cloud.
      if (property === 'then') return undefined;
      return async (...args: unknown[]): Promise<unknown> => {
        const port = (await current()) as Record<string | symbol, unknown>;
        const method = port[property];
        if (typeof method !== 'function') throw new TypeError(`no port method ${String(property)}`);
        return (method as (...a: unknown[]) => Promise<unknown>).apply(port, args);
      };
    },
  });
}
