// The disruption controller: keeps every PodDisruptionBudget's status (expected, desired and current
// healthy pods, disruptions allowed) as its pods and their controllers change; the eviction API reads it.
import { NotFoundError } from '../../../api/errors.js';
import type { OwnerReference } from '../../../api/types/meta.js';
import type { Pod } from '../../../api/types/pod.js';
import type { PodDisruptionBudget } from '../../resources/kinds/policy.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { byName } from '../../reconcile/owned-objects.js';
import { controllerRefOf, objectKeyOf, splitKey } from '../controller-ref.js';
import { matchesSelector } from '../selector-match.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';
import type { Deployment, ReplicaSet, StatefulSet } from '../workload-kinds.js';
import { planPdbStatus } from './pdb-plan.js';

export class DisruptionController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'disruption-controller');
  }

  start(): void {
    this.watch<PodDisruptionBudget>(resourceTypes.poddisruptionbudgets, (_t, pdb) => this.enqueue(objectKeyOf(pdb)));
    this.watch<Pod>(resourceTypes.pods, (_t, pod, old) => {
      for (const pdb of this.informers.for<PodDisruptionBudget>(resourceTypes.poddisruptionbudgets).byIndex('namespace', pod.metadata.namespace!)) {
        if (matchesSelector(pdb.spec.selector, pod.metadata.labels) || (old && matchesSelector(pdb.spec.selector, old.metadata.labels))) this.enqueue(objectKeyOf(pdb));
      }
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    const pdb = await resources.get<PodDisruptionBudget>(resourceTypes.poddisruptionbudgets, namespace, name).catch((e: Error) => {
      if (!(e instanceof NotFoundError)) throw e;
      return undefined;
    });
    if (!pdb) return;
    const pods = pdb.spec.selector ? byName((await this.cache<Pod>(resourceTypes.pods)).byLabels(namespace, pdb.spec.selector.matchLabels))
      .filter((p) => matchesSelector(pdb.spec.selector, p.metadata.labels)) : [];
    const status = planPdbStatus(pdb, pods, await this.#expectedScale(namespace!, pods), clock.now());
    if (stableStringify(status) !== stableStringify(pdb.status ?? {})) {
      await resources.mutate<PodDisruptionBudget>(resourceTypes.poddisruptionbudgets, namespace, name, (p) => ({ ...p, status }), { subresource: 'status' })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
    }
    if (status.disruptedPods) return { requeueAfterMs: 30_000 };
  }

  /** The replicas the pods' controllers ask for (a Deployment's for its ReplicaSets); a pod without a known scalable controller counts once. */
  async #expectedScale(namespace: string, pods: readonly Pod[]): Promise<number> {
    const { resources } = this.ctx;
    const seen = new Map<string, number>();
    let loose = 0;
    const replicasOf = async (ref: OwnerReference): Promise<number | undefined> => {
      if (ref.kind === 'ReplicaSet') {
        const rs = await resources.get<ReplicaSet>(resourceTypes.replicasets, namespace, ref.name).catch(() => undefined);
        if (!rs || rs.metadata.uid !== ref.uid) return undefined;
        const owner = controllerRefOf(rs);
        if (owner?.kind === 'Deployment') {
          const d = await resources.get<Deployment>(resourceTypes.deployments, namespace, owner.name).catch(() => undefined);
          if (d?.metadata.uid === owner.uid) { seen.set(owner.uid, d.spec.replicas ?? 1); return 0; }
        }
        return rs.spec.replicas ?? 1;
      }
      if (ref.kind === 'StatefulSet') {
        const sts = await resources.get<StatefulSet>(resourceTypes.statefulsets, namespace, ref.name).catch(() => undefined);
        return sts?.metadata.uid === ref.uid ? sts.spec.replicas ?? 1 : undefined;
      }
      return undefined;
    };
    for (const pod of pods) {
      const ref = controllerRefOf(pod);
      if (!ref) { loose++; continue; }
      if (seen.has(ref.uid)) continue;
      const replicas = await replicasOf(ref);
      if (replicas === undefined) loose++;
      else seen.set(ref.uid, replicas);
    }
    return [...seen.values()].reduce((a, b) => a + b, 0) + loose;
  }
}
