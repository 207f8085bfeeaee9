// The Deployment controller: owns ReplicaSets (one per template, named name-hash), rolls them per
// strategy, keeps revisions and change-cause annotations for `kubectl rollout history|undo`, prunes
// history beyond revisionHistoryLimit, and reports the status `kubectl rollout status` reads.
import { AlreadyExistsError, NotFoundError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { ownedOrMatching } from '../../reconcile/owned-objects.js';
import { controllerRefOf, newControllerRef, objectKeyOf, splitKey } from '../controller-ref.js';
import { isPodActive } from '../pod-readiness.js';
import { templatesEqual } from '../pod-template.js';
import { matchesSelector } from '../selector-match.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';
import type { Deployment, ReplicaSet } from '../workload-kinds.js';
import { findNewReplicaSet, maxRevision, newReplicaSetFor, replicaSetAnnotations, replicaSetsToPrune, REVISION, revisionOf } from './deployment-revisions.js';
import { planDeploymentStatus } from './deployment-status.js';
import { planRecreate, planRollingUpdate, planScaleOnly, type ScalePlan } from './rollout-plan.js';

export class DeploymentController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'deployment-controller');
  }

  start(): void {
    this.watchOwn(resourceTypes.deployments);
    this.owns<ReplicaSet>(resourceTypes.replicasets, 'Deployment', (rs) => this.#enqueueAdopters(rs));
    // Recreate waits for old pods to stop: their deletion wakes the Deployment
    this.watch<Pod>(resourceTypes.pods, (type, pod) => {
      if (type !== 'DELETED' && isPodActive(pod)) return;
      const ref = controllerRefOf(pod);
      if (ref?.kind !== 'ReplicaSet') return;
      const rsName = ref.name;
      const hash = rsName.lastIndexOf('-');
      if (hash > 0) this.enqueue(`${pod.metadata.namespace}/${rsName.slice(0, hash)}`);
    });
  }

  #enqueueAdopters(rs: ReplicaSet): void {
    for (const d of this.informers.for<Deployment>(resourceTypes.deployments).byIndex('namespace', rs.metadata.namespace!)) {
      if (matchesSelector(d.spec.selector, rs.metadata.labels)) this.enqueue(objectKeyOf(d));
    }
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    const d = await resources.get<Deployment>(resourceTypes.deployments, namespace, name).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!d) return;
    let all = await this.#ownedReplicaSets(d);
    let newRS = findNewReplicaSet(d, all);
    let event: 'NewReplicaSetCreated' | 'FoundNewReplicaSet' | undefined;
    if (!d.metadata.deletionTimestamp) {
      const rolling = d.spec.strategy?.type !== 'Recreate';
      if (newRS) {
        const synced = await this.#syncRevision(d, newRS, all);
        if (synced !== newRS) {
          event = 'FoundNewReplicaSet';
          all = all.map((rs) => (rs.metadata.uid === synced.metadata.uid ? synced : rs));
          newRS = synced;
        }
      } else if (!d.spec.paused && (rolling || !(await this.#oldPodsRunning(d, all)) && all.every((rs) => (rs.spec.replicas ?? 0) === 0))) {
        newRS = await this.#createNewReplicaSet(d, all);
        all = [...all, newRS];
        event = 'NewReplicaSetCreated';
      }
      const old = all.filter((rs) => rs !== newRS);
      let plan: ScalePlan;
      if (d.spec.paused) plan = planScaleOnly(d, newRS, old);
      else if (!rolling) plan = planRecreate(d, newRS, old, await this.#oldPodsRunning(d, all));
      else plan = planRollingUpdate(d, newRS!, old);
      all = await this.#scale(d, all, plan);
      newRS = newRS && all.find((rs) => rs.metadata.uid === newRS!.metadata.uid);
      if (plan.size === 0) await this.#prune(d, all.filter((rs) => rs !== newRS));
    }
    const statusPlan = planDeploymentStatus(d, newRS, all, clock.now(), event);
    if (stableStringify(statusPlan.status) !== stableStringify(d.status ?? {})) {
      await resources.mutate<Deployment>(resourceTypes.deployments, namespace, name, (x) => ({ ...x, status: statusPlan.status }), { subresource: 'status' });
      const p = statusPlan.status.conditions?.find((c) => c.type === 'Progressing');
      if (p?.reason === 'ProgressDeadlineExceeded' && d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason !== 'ProgressDeadlineExceeded') {
        this.recordEvent(d, 'Warning', 'ProgressDeadlineExceeded', p.message ?? '');
      }
    }
    return statusPlan.requeueAfterMs !== undefined ? { requeueAfterMs: statusPlan.requeueAfterMs } : undefined;
  }

  /** Its ReplicaSets, adopting orphans that match its selector. */
  async #ownedReplicaSets(d: Deployment): Promise<ReplicaSet[]> {
    const type = resourceTypes.replicasets;
    const candidates = ownedOrMatching(await this.cache<ReplicaSet>(type), d.metadata.namespace, d.metadata.uid, d.spec.selector);
    const owned: ReplicaSet[] = [];
    for (const rs of candidates) {
      const ref = controllerRefOf(rs);
      if (ref?.uid === d.metadata.uid) owned.push(rs);
      else if (!ref && !d.metadata.deletionTimestamp && !rs.metadata.deletionTimestamp && matchesSelector(d.spec.selector, rs.metadata.labels)) {
        owned.push(await this.ctx.resources.mutate<ReplicaSet>(type, rs.metadata.namespace, rs.metadata.name!, (r) =>
          controllerRefOf(r) ? undefined : { ...r, metadata: { ...r.metadata, ownerReferences: [...(r.metadata.ownerReferences ?? []), newControllerRef(d)] } }));
      }
    }
    return owned;
  }

  async #oldPodsRunning(d: Deployment, all: readonly ReplicaSet[]): Promise<boolean> {
    const current = findNewReplicaSet(d, all);
    const oldUids = new Set(all.filter((rs) => rs !== current).map((rs) => rs.metadata.uid));
    const pods = await this.cache<Pod>(resourceTypes.pods);
    return [...oldUids].flatMap((uid) => (uid ? pods.byIndex('owner', uid) : [])).some((p) => oldUids.has(controllerRefOf(p)?.uid) && !(p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed'));
  }

  /** A reused ReplicaSet (undo, or a template changed back) becomes the newest revision; annotations follow the Deployment. */
  async #syncRevision(d: Deployment, newRS: ReplicaSet, all: readonly ReplicaSet[]): Promise<ReplicaSet> {
    const maxOld = maxRevision(all.filter((rs) => rs !== newRS));
    const revision = revisionOf(newRS) > maxOld ? revisionOf(newRS) : maxOld + 1;
    const annotations = replicaSetAnnotations(d, revision, newRS.metadata.annotations);
    let updated = newRS;
    if (stableStringify(annotations) !== stableStringify(newRS.metadata.annotations ?? {}) || (newRS.spec.minReadySeconds ?? 0) !== (d.spec.minReadySeconds ?? 0)) {
      updated = await this.ctx.resources.mutate<ReplicaSet>(resourceTypes.replicasets, newRS.metadata.namespace, newRS.metadata.name!, (r) => ({
        ...r, metadata: { ...r.metadata, annotations: replicaSetAnnotations(d, revision, r.metadata.annotations) },
        spec: { ...r.spec, minReadySeconds: d.spec.minReadySeconds ?? 0 },
      }));
    }
    await this.#setDeploymentRevision(d, revision);
    return updated;
  }

  async #setDeploymentRevision(d: Deployment, revision: number): Promise<void> {
    if (d.metadata.annotations?.[REVISION] === String(revision)) return;
    await this.ctx.resources.mutate<Deployment>(resourceTypes.deployments, d.metadata.namespace, d.metadata.name!, (x) => (
      x.metadata.annotations?.[REVISION] === String(revision) ? undefined : { ...x, metadata: { ...x.metadata, annotations: { ...x.metadata.annotations, [REVISION]: String(revision) } } }));
  }

  async #createNewReplicaSet(d: Deployment, all: readonly ReplicaSet[]): Promise<ReplicaSet> {
    const revision = maxRevision(all) + 1;
    let collisions = d.status?.collisionCount ?? 0;
    for (;;) {
      const rs = newReplicaSetFor(d, revision, collisions);
      try {
        const created = await this.ctx.resources.create<ReplicaSet>(resourceTypes.replicasets, rs);
        this.recordEvent(d, 'Normal', 'ScalingReplicaSet', `Created new replica set "${created.metadata.name}"`);
        await this.#setDeploymentRevision(d, revision);
        return created;
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error;
        const existing = await this.ctx.resources.get<ReplicaSet>(resourceTypes.replicasets, rs.metadata.namespace, rs.metadata.name!);
        // same template, owned by us: the cache had not seen it yet
        if (controllerRefOf(existing)?.uid === d.metadata.uid && templatesEqual(existing.spec.template, d.spec.template)) return existing;
        collisions++;
        await this.ctx.resources.mutate<Deployment>(resourceTypes.deployments, d.metadata.namespace, d.metadata.name!,
          (x) => ({ ...x, status: { ...x.status, collisionCount: collisions } }), { subresource: 'status' });
      }
    }
  }

  async #scale(d: Deployment, all: ReplicaSet[], plan: ScalePlan): Promise<ReplicaSet[]> {
    const out = [...all];
    for (const [rsName, replicas] of plan) {
      const i = out.findIndex((rs) => rs.metadata.name === rsName);
      const before = out[i]!.spec.replicas ?? 0;
      out[i] = await this.ctx.resources.mutate<ReplicaSet>(resourceTypes.replicasets, d.metadata.namespace, rsName, (r) => ({
        ...r, spec: { ...r.spec, replicas },
        metadata: { ...r.metadata, annotations: { ...r.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1) } },
      }));
      this.recordEvent(d, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > before ? 'up' : 'down'} replica set ${rsName} from ${before} to ${replicas}`);
    }
    return out;
  }

  async #prune(d: Deployment, old: readonly ReplicaSet[]): Promise<void> {
    for (const rs of replicaSetsToPrune(d, old)) {
      await this.ctx.resources.delete(resourceTypes.replicasets, rs.metadata.namespace, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid! } })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
    }
  }
}
