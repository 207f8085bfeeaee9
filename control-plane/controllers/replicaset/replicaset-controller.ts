// The ReplicaSet controller: keeps spec.replicas active pods of the template, adopting and releasing
// pods by selector, and reports replicas/ready/available in status. The same controller runs
// ReplicationControllers (core/v1), seen as ReplicaSets whose selector is matchLabels.
import { NotFoundError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import type { KubeObject } from '../../../api/types/meta.js';
import type { ReplicationController } from '../../resources/kinds/workloads.js';
import { replicaSetView } from '../../resources/replication-controllers.js';
import { resourceTypes, type ResourceType } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { inBatches, slowStartBatch } from '../batches.js';
import { Controller, type ControllerContext } from '../controller-base.js';
import { controllerRefOf, newControllerRef, objectKeyOf, splitKey } from '../controller-ref.js';
import { podFromTemplate } from '../pod-template.js';
import { matchesSelector } from '../selector-match.js';
import type { ReplicaSet } from '../workload-kinds.js';
import { planReplicaSet, planReplicaSetStatus } from './replica-plan.js';
import type { ReconcileResult } from '../work-queue.js';

const WRITE_PARALLELISM = 16;

/** The kind a ReplicaSetController runs and how it reads one as a ReplicaSet. */
export interface ReplicaKind { type: ResourceType; kind: string; controllerName: string; view(obj: KubeObject): ReplicaSet }

const replicaSets: ReplicaKind = { type: resourceTypes.replicasets, kind: 'ReplicaSet', controllerName: 'replicaset-controller', view: (o) => o as ReplicaSet };
export const replicationControllers: ReplicaKind = {
  type: resourceTypes.replicationcontrollers, kind: 'ReplicationController', controllerName: 'replication-controller',
  view: (o) => replicaSetView(o as ReplicationController),
};

export class ReplicaSetController extends Controller {
  readonly #kind: ReplicaKind;

  constructor(ctx: ControllerContext, kind: ReplicaKind = replicaSets) {
    super(ctx, kind.controllerName);
    this.#kind = kind;
  }

  start(): void {
    this.watch<ReplicaSet>(this.#kind.type, (_t, rs) => this.enqueue(objectKeyOf(rs)));
    this.watch<Pod>(resourceTypes.pods, (_t, pod) => this.#enqueueOwnerOf(pod));
  }

  #enqueueOwnerOf(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (ref) {
      if (ref.kind === this.#kind.kind) this.enqueue(`${pod.metadata.namespace}/${ref.name}`);
      return;
    }
    // an orphan: every ReplicaSet that could adopt it takes a look
    void this.ctx.resources.list<KubeObject>(this.#kind.type, { namespace: pod.metadata.namespace }).then((list) => {
      for (const rs of list.items.map((o) => this.#kind.view(o))) if (matchesSelector(rs.spec.selector, pod.metadata.labels)) this.enqueue(objectKeyOf(rs));
    }).catch(() => undefined);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    let rs: ReplicaSet;
    try {
      rs = this.#kind.view(await resources.get<KubeObject>(this.#kind.type, namespace, name));
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
    const pods = (await resources.list<Pod>(resourceTypes.pods, { namespace })).items;
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
      await resources.mutate<ReplicaSet>(this.#kind.type, namespace, name, (r) => ({ ...r, status: statusPlan.status }), { subresource: 'status' })
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
