import type { EmulatorState } from './state.ts';

/**
 * Every Alibaba Cloud account the emulator holds (a Resource Directory in miniature): each has its
 * own keys, RAM, IMS providers and STS sessions. An access key belongs to exactly one account, so
 * a signed request is served by the account that owns its key; an anonymous call
 * (AssumeRoleWithOIDC) by the account its ARNs name.
 */
export class Accounts {
  readonly home: EmulatorState;
  readonly #byId = new Map<string, EmulatorState>();

  constructor(home: EmulatorState, others: readonly EmulatorState[] = []) {
    this.home = home;
    for (const state of [home, ...others]) {
      if (this.#byId.has(state.accountId))
        throw new Error(`account ${state.accountId} is defined twice`);
      this.#byId.set(state.accountId, state);
    }
  }

  get(accountId: string): EmulatorState | undefined {
    return this.#byId.get(accountId);
  }

  all(): EmulatorState[] {
    return [...this.#byId.values()];
  }

  /** The account owning an access key (account key, RAM user key or STS session key). */
  ownerOf(accessKeyId: string): EmulatorState | undefined {
    return this.all().find(
      (s) =>
        s.accountKeys.has(accessKeyId) ||
        s.sessions.has(accessKeyId) ||
        [...s.users.values()].some((u) => u.accessKeyId === accessKeyId),
    );
  }

  /** The account an `acs:ram::<uid>:...` ARN names; the home account when it names none we hold. */
  forArn(arn: string | undefined): EmulatorState {
    const uid = /^acs:ram::(\d+):/i.exec(arn ?? '')?.[1];
    return (uid !== undefined ? this.get(uid) : undefined) ?? this.home;
  }
}
