import type { AccountMapping } from '../api/account-mapping.ts';
import { ConditionType, type PodIdentityBinding } from '../api/types.ts';
import type { AccountClients, AccountPorts, AccountTarget } from '../cloud/account-clients.ts';
import { lazyPort } from '../cloud/account-clients.ts';
import { CloudError } from '../cloud/errors.ts';
import type { RamPort } from '../cloud/ports.ts';
import {
  resolveAccount,
  needsLabels,
  type AccountResolution,
} from '../identity/account-mapping.ts';
import { ackProviderName, oidcProviderArn, roleArn } from '../identity/arn.ts';
import { sameJson } from '../identity/trust-policy.ts';
import { ensureAccountProvider } from './account-provider.ts';
import { decideRoute, deletionRoute, type Route } from './account-route.ts';
import { involvedObject } from './involved.ts';
import { BindingReconciler, RetryableError } from './reconciler.ts';
import { computeStatus, type Outcome } from './status.ts';
import type { ReconcileResult, ReconcilerDeps } from './types.ts';

/**
 * Runs each binding's pass in the account its namespace maps to (docs/adr/0014): one
 * BindingReconciler per account, each over that account's RamPort (a session of the account's
 * management role, renewed behind the port) and that account's OIDC provider. The reconciler
 * itself stays single-account; this only picks which one runs, after making sure the target
 * account has the cluster's provider, and stalls a binding whose account would change.
 */

export interface AccountRouterDeps {
  /** The cluster's own account: its deps are every other account's deps but ram and cluster. */
  home: ReconcilerDeps;
  mappings: () => readonly AccountMapping[];
  /** A namespace's labels; undefined when unreadable. Only read when a mapping uses a selector. */
  namespaceLabels: (namespace: string) => Promise<Record<string, string> | undefined>;
  accounts: AccountClients;
  /** The issuer's CA fingerprint, for creating the provider in a target account. */
  issuerFingerprint: () => Promise<string>;
  /** How long a verified provider is trusted before IMS is asked again (default 10 minutes). */
  providerCheckMs?: number;
}

interface AccountEntry {
  key: string;
  reconciler: BindingReconciler;
  target: AccountTarget;
  providerCheckedAt: number | undefined;
}

export class AccountRouter {
  readonly #d: AccountRouterDeps;
  readonly #home: BindingReconciler;
  readonly #accounts = new Map<string, AccountEntry>();

  constructor(deps: AccountRouterDeps) {
    this.#d = deps;
    this.#home = new BindingReconciler(deps.home);
  }

  async reconcile(namespace: string, name: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const { home } = this.#d;
    const binding = await home.bindings.get(namespace, name);
    if (!binding) return this.#home.reconcile(namespace, name, signal);
    const mappings = this.#d.mappings();
    if (mappings.length === 0 && !binding.status?.accountId)
      return this.#home.reconcile(namespace, name, signal);
    const resolution = await this.#resolve(namespace, mappings);
    const homeAccountId = home.cluster.accountId;
    const route: Route = binding.metadata.deletionTimestamp
      ? deletionRoute({ binding, resolution, mappings, homeAccountId })
      : decideRoute({ binding, resolution, homeAccountId });
    if (route.kind === 'home') return this.#home.reconcile(namespace, name, signal);
    if (route.kind === 'stalled') {
      // A deletion that cannot reach the role's account is retried, never given up.
      if (binding.metadata.deletionTimestamp) {
        await this.#writeOutcome(binding, {
          ...outcomeBase(route.reason, route.message),
          reconciling: true,
        });
        throw new RetryableError(route.message);
      }
      await this.#writeStalled(binding, route.reason, route.message);
      return {};
    }
    const entry = this.#entry(route.mapping);
    // A spec the guardrails refuse is stalled by the account's reconciler without the provider
    // being ensured first: a refused binding must leave nothing behind in the target account.
    if (!binding.metadata.deletionTimestamp && !entry.reconciler.refusal(binding)) {
      const blocked = await this.#ensureProvider(entry, route.mapping, binding);
      if (blocked) return blocked;
    }
    return entry.reconciler.reconcile(namespace, name, signal);
  }

  async #resolve(
    namespace: string,
    mappings: readonly AccountMapping[],
  ): Promise<AccountResolution> {
    const labels = needsLabels(mappings) ? await this.#d.namespaceLabels(namespace) : {};
    return resolveAccount({ name: namespace, labels }, mappings);
  }

  /** The account's reconciler, rebuilt when the mapping changes how the account is reached. */
  #entry(mapping: AccountMapping): AccountEntry {
    const { accountId, managementRoleName, externalId, oidcProviderName } = mapping.spec;
    const key = JSON.stringify([managementRoleName, externalId ?? '', oidcProviderName ?? '']);
    const existing = this.#accounts.get(accountId);
    if (existing?.key === key) return existing;
    if (existing) this.#d.accounts.forget(accountId);
    const target = { accountId, roleArn: roleArn(accountId, managementRoleName), externalId };
    const ports = (): Promise<AccountPorts> => this.#d.accounts.ports(target);
    const ram = lazyPort<RamPort>(async () => (await ports()).ram);
    const home = this.#d.home;
    const providerName = oidcProviderName ?? ackProviderName(home.cluster.clusterId);
    const reconciler = new BindingReconciler({
      ...home,
      ram,
      cluster: {
        ...home.cluster,
        accountId,
        oidcProviderArn: oidcProviderArn(accountId, providerName),
        crossAccount: true,
      },
    });
    const entry = { key, reconciler, target, providerCheckedAt: undefined };
    this.#accounts.set(accountId, entry);
    return entry;
  }

  /** undefined when the provider is in place; else the result of a pass that stopped here. */
  async #ensureProvider(
    entry: AccountEntry,
    mapping: AccountMapping,
    binding: PodIdentityBinding,
  ): Promise<ReconcileResult | undefined> {
    const now = this.#d.home.now().getTime();
    const ttl = this.#d.providerCheckMs ?? 10 * 60_000;
    if (entry.providerCheckedAt !== undefined && now - entry.providerCheckedAt < ttl)
      return undefined;
    const home = this.#d.home;
    try {
      const { ims } = await this.#d.accounts.ports(entry.target);
      const result = await ensureAccountProvider(ims, {
        accountId: mapping.spec.accountId,
        name: mapping.spec.oidcProviderName ?? ackProviderName(home.cluster.clusterId),
        configured: mapping.spec.oidcProviderName !== undefined,
        mappingName: mapping.metadata.name,
        issuerUrl: home.cluster.issuerUrl,
        clusterId: home.cluster.clusterId,
        fingerprint: this.#d.issuerFingerprint,
      });
      if (result.kind === 'blocked') {
        await this.#writeStalled(binding, result.reason, result.message);
        return {};
      }
      if (result.created)
        home.events.record(
          involvedObject(binding),
          'Normal',
          'OidcProviderCreated',
          `created OIDC provider ${result.arn} for issuer ${home.cluster.issuerUrl}`,
        );
      entry.providerCheckedAt = now;
      return undefined;
    } catch (error) {
      if (!(error instanceof CloudError)) throw error;
      // The management role could not be assumed, or IMS failed: say so, and retry.
      const message = `account ${mapping.spec.accountId} (AccountMapping ${mapping.metadata.name}) is not reachable: ${error.action}: ${error.describeStable()}; check that role ${entry.target.roleArn} trusts the operator's identity${mapping.spec.externalId ? ' with this external id' : ''} and grants it RAM and IMS access`;
      this.#d.accounts.forget(mapping.spec.accountId);
      await this.#writeOutcome(binding, {
        ...outcomeBase('AccountUnreachable', message),
        reconciling: true,
      });
      throw new RetryableError(message, error.retryAfterMs, error);
    }
  }

  async #writeStalled(binding: PodIdentityBinding, reason: string, message: string): Promise<void> {
    await this.#writeOutcome(binding, { ...outcomeBase(reason, message), stalled: true });
  }

  /** One status write, only when it changed; an Event when the Ready reason changes. */
  async #writeOutcome(binding: PodIdentityBinding, outcome: Outcome): Promise<void> {
    const { home } = this.#d;
    const status = computeStatus(binding, outcome, home.now());
    if (binding.status && sameJson(binding.status, status)) return;
    const before = binding.status?.conditions?.find((c) => c.type === ConditionType.Ready);
    if (before?.reason !== outcome.reason)
      home.events.record(involvedObject(binding), 'Warning', outcome.reason, outcome.message);
    await home.bindings.patchStatus(binding, status);
  }
}

function outcomeBase(reason: string, message: string): Outcome {
  return { ready: false, reason, message, stalled: false, reconciling: false, details: {} };
}
