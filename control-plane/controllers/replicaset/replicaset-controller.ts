// The ReplicaSet controller: keeps spec.replicas active pods of the template, adopting and releasing
// pods by selector, and reports replicas/ready/available in status.
import { NotFoundError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { inBatches, slowStartBatch } from '../batches.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { ownedOrMatching } from '../../reconcile/owned-objects.js';
import { controllerRefOf, newControllerRef, objectKeyOf, splitKey } from '../controller-ref.js';
import { podFromTemplate } from '../pod-template.js';
import { matchesSelector } from '../selector-match.js';
import type { ReplicaSet } from '../workload-kinds.js';
import { planReplicaSet, planReplicaSetStatus } from './replica-plan.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';

const WRITE_PARALLELISM = 16;

export class ReplicaSetController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'replicaset-controller');
  }

  start(): void {
    this.watchOwn(resourceTypes.replicasets);
    // an orphan: every ReplicaSet of its namespace that could adopt it takes a look
    this.owns<Pod>(resourceTypes.pods, 'ReplicaSet', (pod) => {
      for (const rs of this.informers.for<ReplicaSet>(resourceTypes.replicasets).byIndex('namespace', pod.metadata.namespace!)) {
        if (matchesSelector(rs.spec.selector, pod.metadata.labels)) this.enqueue(objectKeyOf(rs));
      }
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    let rs: ReplicaSet;
    try {
      rs = await resources.get<ReplicaSet>(resourceTypes.replicasets, namespace, name);
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
    const pods = ownedOrMatching(await this.cache<Pod>(resourceTypes.pods), namespace, rs.metadata.uid, rs.spec.selector);
    const plan = planReplicaSet(rs, pods);
    for (const pod of plan.adopt) await this.#setOwner(pod, rs, true);
    for (const pod of plan.release) await this.#setOwner(pod, rs, false);
    let failure: string | undefined;
    // the plan holds at most BURST_REPLICAS creates or deletes; the pods' events bring the ReplicaSet back for the rest
    if (plan.create > 0) failure = await this.#createPods(rs, plan.create);
    const deleteErrors = await inBatches(plan.delete, WRITE_PARALLELISM, async (pod) => {
      await resources.delete(resourceTypes.pods, namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
      this.recordEvent(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    });
    const statusPlan = planReplicaSetStatus(rs, plan.active, clock.now(), failure);
    if (stableStringify(statusPlan.status) !== stableStringify(rs.status ?? {})) {
      await resources.mutate<ReplicaSet>(resourceTypes.replicasets, namespace, name, (r) => ({ ...r, status: statusPlan.status }), { subresource: 'status' })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
    }
    if (deleteErrors.length) throw deleteErrors[0];
    if (failure) return { requeueAfterMs: 5_000 };
    return statusPlan.requeueAfterMs !== undefined ? { requeueAfterMs: statusPlan.requeueAfterMs } : undefined;
  }

  /** Creates pods in slow-start batches (1, 2, 4, ...) so a bad template fails fast; returns the first error. */
  async #createPods(rs: ReplicaSet, count: number): Promise<string | undefined> {
    const result = await slowStartBatch(Array.from({ length: count }), async () => {
      const pod = await this.ctx.resources.create<Pod>(resourceTypes.pods, podFromTemplate(rs, rs.spec.template));
      this.recordEvent(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    }, WRITE_PARALLELISM);
    if (!result.error) return undefined;
    this.recordEvent(rs, 'Warning', 'FailedCreate', `Error creating: ${result.error.message}`);
    return result.error.message;
  }

  async #setOwner(pod: Pod, rs: ReplicaSet, own: boolean): Promise<void> {
    await this.ctx.resources.mutate<Pod>(resourceTypes.pods, pod.metadata.namespace, pod.metadata.name!, (p) => {
      const refs = p.metadata.ownerReferences ?? [];
      if (own) {
        if (controllerRefOf(p) || p.metadata.deletionTimestamp) return undefined;
        return { ...p, metadata: { ...p.metadata, ownerReferences: [...refs, newControllerRef(rs)] } };
      }
      if (!refs.some((r) => r.uid === rs.metadata.uid)) return undefined;
      return { ...p, metadata: { ...p.metadata, ownerReferences: refs.filter((r) => r.uid !== rs.metadata.uid) } };
    }).catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
  }
}
