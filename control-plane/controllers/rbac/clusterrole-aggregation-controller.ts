// The ClusterRole aggregation controller: a ClusterRole with an aggregationRule gets, as its rules,
// the rules of every ClusterRole its selectors match (deduplicated, in name order), as
// kube-controller-manager's clusterrole-aggregation controller. Any ClusterRole change requeues every
// aggregated role, so chains (view -> edit -> admin, by their aggregate-to labels) settle.
import { NotFoundError } from '../../../api/errors.js';
import type { ClusterRole, PolicyRule } from '../../resources/kinds/rbac.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { matchesLabelSelector } from '../../resources/selector-object.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { byName } from '../../reconcile/owned-objects.js';

/** The rules `role` aggregates from `all` (itself excluded). */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
  const seen = new Set<string>();
  const rules: PolicyRule[] = [];
  const sources = all
    .filter((r) => r.metadata.name !== role.metadata.name && selectors.some((s) => matchesLabelSelector(s, r.metadata.labels)))
    .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  for (const source of sources) {
    for (const rule of source.rules ?? []) {
      const key = stableStringify(rule);
      if (seen.has(key)) continue;
      seen.add(key);
      rules.push(rule);
    }
  }
  return rules;
}

export class ClusterRoleAggregationController extends Controller {
  readonly #aggregated = new Set<string>();

  constructor(ctx: ControllerContext) {
    super(ctx, 'clusterrole-aggregation-controller', 1);
  }

  start(): void {
    this.watch<ClusterRole>(resourceTypes.clusterroles, (type, role) => {
      const name = role.metadata.name!;
      if (type !== 'DELETED' && role.aggregationRule) this.#aggregated.add(name);
      else this.#aggregated.delete(name);
      for (const n of this.#aggregated) this.enqueue(n);
    });
  }

  async reconcile(name: string): Promise<void> {
    const { resources } = this.ctx;
    const all = byName((await this.cache<ClusterRole>(resourceTypes.clusterroles)).list());
    const role = all.find((r) => r.metadata.name === name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, all);
    if (stableStringify(rules) === stableStringify(role.rules ?? [])) return;
    await resources.mutate<ClusterRole>(resourceTypes.clusterroles, undefined, name, (r) => ({ ...r, rules: aggregatedRules(r, all) }))
      .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
  }
}
