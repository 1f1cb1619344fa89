import type { Accounts } from './accounts.ts';
import type { Clock, IdSource } from './ids.ts';
import type { JwksClient } from './jwks.ts';
import type { Params } from './params.ts';
import type { EmulatorState, RamUserRecord, StsSession } from './state.ts';

/** What every action handler sees, and how actions are declared. */

export type Service = 'ram' | 'sts' | 'ims';

export const SERVICE_VERSIONS: Record<Service, string> = {
  ram: '2015-05-01',
  sts: '2015-04-01',
  ims: '2019-08-15',
};

export type Caller =
  | { kind: 'account'; accessKeyId: string }
  | { kind: 'user'; accessKeyId: string; user: RamUserRecord }
  | { kind: 'session'; accessKeyId: string; session: StsSession }
  | { kind: 'anonymous' };

export interface ActionContext {
  params: Params;
  /** The account serving the request: the caller's (signed) or the one the ARNs name (anonymous). */
  state: EmulatorState;
  /** Every account, for calls that cross accounts (AssumeRole into another account's role). */
  accounts: Accounts;
  caller: Caller;
  ids: IdSource;
  clock: Clock;
  jwks: JwksClient;
  /** Diagnostics for the operator of the emulator (never sent to the client). */
  log: (message: string) => void;
}

export type ResponseBody = Record<string, unknown>;

export type ActionHandler = (ctx: ActionContext) => ResponseBody | Promise<ResponseBody>;

export interface ActionSpec {
  service: Service;
  action: string;
  /** Changes emulator state (the counters separate reads from writes). */
  write: boolean;
  /** No signature at all (AssumeRoleWithOIDC, reference §2.2). */
  anonymous?: boolean;
  /** For an anonymous action: the parameter ARN whose account serves it (home when absent). */
  anonymousAccountArn?: (params: Record<string, string>) => string | undefined;
  /** Any authenticated caller may call it, whatever its policies (GetCallerIdentity). */
  noAuthz?: boolean;
  /** The action name policies grant, like `ram:CreateRole`; absent: no authorisation. */
  authAction?: string;
  /** The resource ARN authorisation matches against; `*` when absent. */
  resource?: (ctx: ActionContext) => string;
  handler: ActionHandler;
}

/** Defines a batch of actions of one service with the usual `ram:<Action>` grant name. */
export function defineActions(
  service: Service,
  authPrefix: string,
  specs: Record<string, Omit<ActionSpec, 'service' | 'action'>>,
): ActionSpec[] {
  return Object.entries(specs).map(([action, spec]) => ({
    service,
    action,
    ...spec,
    authAction:
      spec.anonymous || spec.noAuthz ? undefined : (spec.authAction ?? `${authPrefix}:${action}`),
  }));
}

/** `acs:ram:*:<uid>:<type>/<name>`, the resource form RAM permission policies match. */
export function ramResource(ctx: ActionContext, type: string, param: string): string {
  const name = ctx.params.optional(param);
  return name ? `acs:ram:*:${ctx.state.accountId}:${type}/${name}` : '*';
}
