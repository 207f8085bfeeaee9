// The DaemonSet controller: one pod per matching node, bound directly to it (the scheduler only
// gives it a pod IP); RollingUpdate replaces old pods within maxUnavailable; each template is kept
// as a ControllerRevision (history and `kubectl rollout undo ds`).
import { AlreadyExistsError, NotFoundError } from '../../../api/errors.js';
import type { Node } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { inBatches, MAX_DAEMON_POD_WRITES_PER_SYNC, slowStartBatch } from '../batches.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { byName, controlledBy } from '../../reconcile/owned-objects.js';
import { controllerRefOf, newControllerRef, objectKeyOf, splitKey } from '../controller-ref.js';
import { podFromTemplate, templateHash, templatesEqual } from '../pod-template.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';
import type { ControllerRevision, DaemonSet, PodTemplateSpec } from '../workload-kinds.js';
import { DAEMON_TOLERATIONS, planDaemonSet, REVISION_HASH } from './daemon-plan.js';

export class DaemonSetController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'daemonset-controller');
  }

  start(): void {
    this.watchOwn(resourceTypes.daemonsets);
    this.owns(resourceTypes.pods, 'DaemonSet');
    // nodes joining, leaving or changing labels/taints: every DaemonSet takes a look
    this.watch<Node>(resourceTypes.nodes, (type, node) => {
      if (type === 'MODIFIED' && !this.#nodeMatters(node)) return;
      for (const ds of this.informers.for<DaemonSet>(resourceTypes.daemonsets).list()) this.enqueue(objectKeyOf(ds));
    });
  }

  readonly #nodeShapes = new Map<string, string>();
  /** Only label, taint and readiness changes of a node matter (not its heartbeats). */
  #nodeMatters(node: Node): boolean {
    const shape = stableStringify([node.metadata.labels, node.spec.taints, node.status?.conditions?.find((c) => c.type === 'Ready')?.status]);
    if (this.#nodeShapes.get(node.metadata.name!) === shape) return false;
    this.#nodeShapes.set(node.metadata.name!, shape);
    return true;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    const ds = await resources.get<DaemonSet>(resourceTypes.daemonsets, namespace, name).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!ds) return;
    const hash = ds.metadata.deletionTimestamp ? '' : await this.#syncRevisions(ds);
    const [nodeCache, podCache] = [await this.cache<Node>(resourceTypes.nodes), await this.cache<Pod>(resourceTypes.pods)];
    // what reading the nodes and its pods and planning cost: the owner sync of a DaemonSet over 10,000
    // nodes stretches with it (work-queue.ts)
    const readStart = clock.now();
    const nodes = byName(nodeCache.list());
    const owned = controlledBy(podCache, ds.metadata.uid);
    const plan = planDaemonSet(ds, nodes, owned, hash, readStart);
    const costMs = clock.now() - readStart;
    // at most MAX_DAEMON_POD_WRITES_PER_SYNC of each per sync; the pods' events bring the DaemonSet back for the rest
    const errors = await inBatches(plan.delete.slice(0, MAX_DAEMON_POD_WRITES_PER_SYNC), 8, (pod) => resources.delete(resourceTypes.pods, namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } })
      .then(() => this.recordEvent(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`))
      .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; }));
    const created = await slowStartBatch(plan.create.slice(0, MAX_DAEMON_POD_WRITES_PER_SYNC), async (nodeName) => {
      const pod = podFromTemplate(ds, ds.spec.template, { nodeName, labels: { [REVISION_HASH]: hash } });
      const tolerations = pod.spec.tolerations ?? [];
      pod.spec.tolerations = [...tolerations, ...DAEMON_TOLERATIONS.filter((t) => !tolerations.some((x) => x['key'] === t['key'] && x['effect'] === t['effect']))];
      const made = await resources.create<Pod>(resourceTypes.pods, pod);
      this.recordEvent(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata.name}`);
    }, 8);
    if (created.error) {
      this.recordEvent(ds, 'Warning', 'FailedCreate', `Error creating: ${created.error.message}`);
      errors.push(created.error);
    }
    if (stableStringify(plan.status) !== stableStringify(ds.status ?? {})) {
      await resources.mutate<DaemonSet>(resourceTypes.daemonsets, namespace, name, (d) => ({ ...d, status: plan.status }), { subresource: 'status' })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
    }
    if (errors.length) throw errors[0];
    // pods turn available after minReadySeconds without any event
    if ((ds.spec.minReadySeconds ?? 0) > 0 && plan.status.numberAvailable !== plan.status.numberReady) return { requeueAfterMs: 1000, costMs };
    return { costMs };
  }

  /** Ensures a ControllerRevision for the current template (the newest revision) and prunes history; returns its hash. */
  async #syncRevisions(ds: DaemonSet): Promise<string> {
    const { resources } = this.ctx;
    const type = resourceTypes.controllerrevisions;
    const revisions = controlledBy(await this.cache<ControllerRevision>(type), ds.metadata.uid);
    const maxRevision = revisions.reduce((m, r) => Math.max(m, r.revision), 0);
    const current = revisions.find((r) => templatesEqual(templateOf(r), ds.spec.template));
    let hash: string;
    if (current) {
      hash = current.metadata.labels?.[REVISION_HASH] ?? templateHash(ds.spec.template);
      if (current.revision < maxRevision) {
        await resources.mutate<ControllerRevision>(type, ds.metadata.namespace, current.metadata.name!, (r) => ({ ...r, revision: maxRevision + 1 }));
      }
    } else {
      hash = templateHash(ds.spec.template, ds.status?.collisionCount ?? 0);
      const template = structuredClone(ds.spec.template);
      const revision: ControllerRevision = {
        apiVersion: 'apps/v1', kind: 'ControllerRevision',
        metadata: {
          name: `${ds.metadata.name}-${hash}`, namespace: ds.metadata.namespace!,
          labels: { ...ds.spec.template.metadata?.labels, [REVISION_HASH]: hash }, ownerReferences: [newControllerRef(ds)],
        },
        data: { spec: { template: { ...template, $patch: 'replace' } } },
        revision: maxRevision + 1,
      };
      await resources.create(type, revision).catch((e: Error) => { if (!(e instanceof AlreadyExistsError)) throw e; });
    }
    const limit = ds.spec.revisionHistoryLimit ?? 10;
    const old = revisions.filter((r) => r !== current).sort((a, b) => a.revision - b.revision);
    for (const r of old.slice(0, Math.max(0, old.length - limit))) {
      await resources.delete(type, r.metadata.namespace, r.metadata.name!).catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
    }
    return hash;
  }
}

function templateOf(revision: ControllerRevision): PodTemplateSpec {
  const template = structuredClone((revision.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } })?.spec?.template ?? { spec: { containers: [] } });
  delete template.$patch;
  return template;
}
