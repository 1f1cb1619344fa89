import { kubectl } from '../../devenv/kubectl.ts';
import { eventually } from './operator-env.ts';

/**
 * Plays a namespace's tenant: a user bound to the built-in `edit` role there and nowhere else
 * (extended by config/rbac/aggregate-roles.yaml), acting through impersonation, so the
 * apiserver authorizes every request exactly as it would the tenant's own token.
 */
export class Tenants {
  readonly #kubeconfigPath: string;
  readonly #ready = new Map<string, Promise<string>>();
  #roles: Promise<unknown> | undefined;

  constructor(kubeconfigPath: string) {
    this.#kubeconfigPath = kubeconfigPath;
  }

  /** The impersonation flag for the tenant of `ns` (set up on first use). */
  async as(ns: string): Promise<string> {
    let user = this.#ready.get(ns);
    if (!user) {
      user = this.#setUp(ns);
      this.#ready.set(ns, user);
    }
    return `--as=${await user}`;
  }

  /** Applies a PodIdentityBinding as the tenant of `ns`. */
  async applyBinding(
    ns: string,
    name: string,
    spec: object,
    labels: Record<string, string>,
  ): Promise<void> {
    await kubectl(this.#kubeconfigPath, ['apply', '-f', '-', await this.as(ns)], {
      input: JSON.stringify({
        apiVersion: 'rrsa.dev/v1alpha1',
        kind: 'PodIdentityBinding',
        metadata: { name, namespace: ns, labels },
        spec,
      }),
    });
  }

  async #setUp(ns: string): Promise<string> {
    const kc = this.#kubeconfigPath;
    this.#roles ??= kubectl(kc, ['apply', '-f', 'config/rbac/aggregate-roles.yaml']);
    await this.#roles;
    const user = `tenant-of-${ns}`;
    await kubectl(kc, [
      'create',
      'rolebinding',
      'tenant-edit',
      '--clusterrole=edit',
      `--user=${user}`,
      '-n',
      ns,
    ]);
    // The clusterrole-aggregation controller may still be folding our rules into `edit`.
    await eventually(`${user} may create bindings`, () =>
      kubectl(kc, [
        'auth',
        'can-i',
        'create',
        'podidentitybindings.rrsa.dev',
        '-n',
        ns,
        `--as=${user}`,
      ]).then(
        () => true,
        () => undefined,
      ),
    );
    return user;
  }
}
