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
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { controllerRefOf, newControllerRef, objectKeyOf, splitKey } from '../controller-ref.js';
import { podFromTemplate } from '../pod-template.js';
import { matchesSelector } from '../selector-match.js';
import type { ReplicaSet } from '../workload-kinds.js';
import { BURST_REPLICAS, podsToDelete, replicaSetStatus } from './replica-plan.js';
import { ReplicaCountTracker } from './replica-count-tracker.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';

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
  /** Status counts kept per pod event (decision 072): a reconcile walks its pods only to choose which to delete. */
  readonly #counts = new ReplicaCountTracker((uid) => this.informers.for<Pod>(resourceTypes.pods).byIndex('owner', uid));

  constructor(ctx: ControllerContext, kind: ReplicaKind = replicaSets) {
    super(ctx, kind.controllerName);
    this.#kind = kind;
  }

  /** How many times a ReplicaSet's counts were built by a walk of its pods (tests). */
  get countWalks(): number {
    return this.#counts.walks;
  }

  start(): void {
    this.watchOwn(this.#kind.type);
    this.#keepCounts();
    // an orphan: every ReplicaSet of its namespace that could adopt it takes a look
    this.owns<Pod>(resourceTypes.pods, this.#kind.kind, (pod) => {
      for (const o of this.informers.for<KubeObject>(this.#kind.type).byIndex('namespace', pod.metadata.namespace!)) {
        const rs = this.#kind.view(o);
        if (matchesSelector(rs.spec.selector, pod.metadata.labels)) this.enqueue(objectKeyOf(rs));
      }
    });
  }

  #counting = false;
  /** Feeds every pod event to the counts: first in start() (before the owner's wake-ups), or at the first reconcile (tests). */
  #keepCounts(): void {
    if (this.#counting) return;
    this.#counting = true;
    this.watch<Pod>(resourceTypes.pods, (type, pod, old) => this.#counts.observe(type, pod, old));
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    let rs: ReplicaSet;
    try {
      rs = this.#kind.view(await resources.get<KubeObject>(this.#kind.type, namespace, name));
    } catch (error) {
      if (error instanceof NotFoundError) {
        this.#counts.forget(key);
        return;
      }
      throw error;
    }
    this.#keepCounts();
    await this.cache<Pod>(resourceTypes.pods);
    // the cost of what scales with its pods (a walk when its counts are first built, or to choose
    // pods to delete): the owner sync of a large ReplicaSet stretches with it (work-queue.ts)
    const readStart = clock.now();
    const counts = this.#counts.countsFor(key, rs, readStart);
    const deleting = Boolean(rs.metadata.deletionTimestamp);
    const adopt = deleting ? [] : this.#counts.adoptable(namespace, rs.spec.selector);
    const release = counts.releasable();
    let costMs = clock.now() - readStart;
    // adopting and releasing reach the counts through the informer (read-your-writes) before the diff below
    for (const pod of adopt) await this.#setOwner(pod, rs, true);
    for (const pod of release) await this.#setOwner(pod, rs, false);
    let failure: string | undefined;
    let deleteErrors: Error[] = [];
    const diff = deleting ? 0 : (rs.spec.replicas ?? 1) - counts.replicas;
    // at most BURST_REPLICAS creates or deletes; the pods' events bring the ReplicaSet back for the rest
    if (diff > 0) failure = await this.#createPods(rs, Math.min(diff, BURST_REPLICAS));
    if (diff < 0) {
      const walkStart = clock.now();
      const victims = podsToDelete(counts.activePods(), -diff);
      costMs += clock.now() - walkStart;
      deleteErrors = await inBatches(victims, WRITE_PARALLELISM, async (pod) => {
        await resources.delete(resourceTypes.pods, namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } })
          .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
        this.recordEvent(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      });
    }
    const statusStart = clock.now();
    // the counts after this reconcile's own writes (its creates and deletes are in them already)
    const statusPlan = replicaSetStatus(rs, this.#counts.countsFor(key, rs, statusStart).now(statusStart), statusStart, failure);
    costMs += clock.now() - statusStart;
    if (stableStringify(statusPlan.status) !== stableStringify(rs.status ?? {})) {
      await resources.mutate<ReplicaSet>(this.#kind.type, namespace, name, (r) => ({ ...r, status: statusPlan.status }), { subresource: 'status' })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
    }
    if (deleteErrors.length) throw deleteErrors[0];
    if (failure) return { requeueAfterMs: 5_000, costMs };
    return statusPlan.requeueAfterMs !== undefined ? { requeueAfterMs: statusPlan.requeueAfterMs, costMs } : { costMs };
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
