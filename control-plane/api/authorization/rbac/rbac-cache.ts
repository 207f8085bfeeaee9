// The RBAC objects the authorizer reads, held in memory and kept current by watches on the store (as
// kube-apiserver's RBAC authorizer reads informer caches): one list, then changes as they commit. A
// watch that ends is restarted from a fresh list.
import type { KubeObject } from '../../../../api/types/meta.js';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '../../../resources/kinds/rbac.js';
import type { ResourceStore } from '../../../resources/resource-store.js';
import { resourceTypes, type ResourceType } from '../../../resources/resource-types.js';
import type { ApiLogger } from '../../api-deps.js';
import type { RbacPolicySource } from './rbac-authorizer.js';

type Table<T> = Map<string, T>;
const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

export class RbacCache implements RbacPolicySource {
  readonly #resources: ResourceStore;
  readonly #logger: ApiLogger | undefined;
  readonly #roles: Table<Role> = new Map();
  readonly #clusterRoles: Table<ClusterRole> = new Map();
  readonly #roleBindings = new Map<string, Table<RoleBinding>>();
  readonly #clusterRoleBindings: Table<ClusterRoleBinding> = new Map();
  #watches: Array<{ cancel(): void }> = [];
  #stopped = false;
  #ready: Promise<void> | undefined;

  constructor(resources: ResourceStore, logger?: ApiLogger) {
    this.#resources = resources;
    this.#logger = logger;
  }

  /** Lists and starts watching; resolves once the first lists are in. */
  start(): Promise<void> {
    this.#ready ??= Promise.all([
      this.#follow<Role>(resourceTypes.roles, (t, o) => this.#put(this.#roles, t, o)),
      this.#follow<ClusterRole>(resourceTypes.clusterroles, (t, o) => this.#put(this.#clusterRoles, t, o)),
      this.#follow<RoleBinding>(resourceTypes.rolebindings, (t, o) => {
        const ns = o.metadata.namespace ?? '';
        let table = this.#roleBindings.get(ns);
        if (!table) this.#roleBindings.set(ns, (table = new Map()));
        this.#put(table, t, o);
      }),
      this.#follow<ClusterRoleBinding>(resourceTypes.clusterrolebindings, (t, o) => this.#put(this.#clusterRoleBindings, t, o)),
    ]).then(() => undefined);
    return this.#ready;
  }

  stop(): void {
    this.#stopped = true;
    for (const w of this.#watches) w.cancel();
    this.#watches = [];
  }

  clusterRoleBindings(): Iterable<ClusterRoleBinding> {
    return this.#clusterRoleBindings.values();
  }

  roleBindings(namespace: string): Iterable<RoleBinding> {
    return this.#roleBindings.get(namespace)?.values() ?? [];
  }

  role(namespace: string, name: string): Role | undefined {
    return this.#roles.get(`${namespace}/${name}`);
  }

  clusterRole(name: string): ClusterRole | undefined {
    return this.#clusterRoles.get(`/${name}`);
  }

  #put<T extends KubeObject>(table: Table<T>, type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'RESET', obj: T | undefined): void {
    if (type === 'RESET') table.clear();
    else if (type === 'DELETED') table.delete(key(obj!));
    else table.set(key(obj!), obj!);
  }

  async #follow<T extends KubeObject>(type: ResourceType, apply: (t: 'ADDED' | 'MODIFIED' | 'DELETED' | 'RESET', o: T) => void): Promise<void> {
    const list = await this.#resources.list<T>(type);
    if (type === resourceTypes.rolebindings) this.#roleBindings.clear();
    else apply('RESET', undefined as never);
    for (const item of list.items) apply('ADDED', item);
    if (this.#stopped) return;
    const w = this.#resources.watch<T>(type, { resourceVersion: list.metadata.resourceVersion ?? '' }, (t, o) => {
      if (t === 'ADDED' || t === 'MODIFIED' || t === 'DELETED') apply(t, o);
    }, (err) => {
      this.#watches = this.#watches.filter((x) => x !== w);
      if (this.#stopped) return;
      this.#logger?.warn({ type: type.plural, err: err.message }, 'RBAC watch ended; listing again');
      const retry = () => this.#follow(type, apply).catch((e: Error) => {
        this.#logger?.error({ type: type.plural, err: e.message }, 'RBAC list failed; retrying');
        setTimeout(retry, 1000).unref();
      });
      void retry();
    });
    this.#watches.push(w);
  }
}
