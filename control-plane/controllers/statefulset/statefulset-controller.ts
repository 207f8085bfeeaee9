// The StatefulSet controller: pods `<set>-<ordinal>` with stable hostnames, each with its own claims
// from volumeClaimTemplates (created before the pod, kept after it unless the retention policy says
// Delete), ordered or parallel pod management, and partitioned rolling updates over ControllerRevisions.
import { AlreadyExistsError, NotFoundError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import type { PersistentVolumeClaim } from '../../resources/kinds/config.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { controlledBy, ownedOrMatching } from '../../reconcile/owned-objects.js';
import { inBatches } from '../batches.js';
import { controllerRefOf, newControllerRef, objectKeyOf, splitKey } from '../controller-ref.js';
import { podFromTemplate } from '../pod-template.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';
import type { ControllerRevision, StatefulSet } from '../workload-kinds.js';
import { claimNameFor, planStatefulSet, POD_INDEX_LABEL, POD_NAME_LABEL, podNameFor, REVISION_LABEL } from './stateful-plan.js';
import { syncStatefulRevisions, templateOfRevision } from './stateful-revisions.js';

const ignoreNotFound = (e: Error) => { if (!(e instanceof NotFoundError)) throw e; };

export class StatefulSetController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'statefulset-controller');
  }

  start(): void {
    this.watchOwn(resourceTypes.statefulsets);
    this.owns(resourceTypes.pods, 'StatefulSet');
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    const sts = await resources.get<StatefulSet>(resourceTypes.statefulsets, namespace, name).catch((e: Error) => {
      ignoreNotFound(e);
      return undefined;
    });
    if (!sts) return;
    const pods = await this.cache<Pod>(resourceTypes.pods);
    // what reading and planning its pods cost: the owner sync of a large StatefulSet stretches with it (work-queue.ts)
    const readStart = clock.now();
    const owned = controlledBy(pods, sts.metadata.uid);
    const inUse = new Set(owned.map((p) => p.metadata.labels?.[REVISION_LABEL]).filter((r): r is string => Boolean(r)));
    let costMs = clock.now() - readStart;
    const revisions = await syncStatefulRevisions(resources, sts, inUse);
    const names = { current: revisions.current.metadata.name!, update: revisions.update.metadata.name! };
    const planStart = clock.now();
    const plan = planStatefulSet(sts, owned, names, planStart);
    costMs += clock.now() - planStart;
    const errors = await inBatches(plan.create, 8, async ({ ordinal, revision }) => {
      await this.#createClaims(sts, ordinal);
      const template = revision === names.current ? revisions.current : revisions.update;
      await this.#createPod(sts, ordinal, template);
    });
    const whenScaledDelete = sts.spec.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete';
    errors.push(...await inBatches(plan.delete, 8, async (pod) => {
      if (whenScaledDelete && plan.condemned.includes(pod)) await this.#handClaimsTo(sts, pod);
      await resources.delete(resourceTypes.pods, namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } }).catch(ignoreNotFound);
      this.recordEvent(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`);
    }));
    if (stableStringify(plan.status) !== stableStringify(sts.status ?? {})) {
      await resources.mutate<StatefulSet>(resourceTypes.statefulsets, namespace, name, (s) => ({ ...s, status: plan.status }), { subresource: 'status' })
        .catch(ignoreNotFound);
    }
    if (errors.length) throw errors[0];
    if ((sts.spec.minReadySeconds ?? 0) > 0 && plan.status.availableReplicas !== plan.status.readyReplicas) return { requeueAfterMs: 1000, costMs };
    return { costMs };
  }

  /** The claims of one ordinal, made from volumeClaimTemplates unless they exist. */
  async #createClaims(sts: StatefulSet, ordinal: number): Promise<void> {
    for (const t of sts.spec.volumeClaimTemplates ?? []) {
      const claim: PersistentVolumeClaim = {
        apiVersion: 'v1', kind: 'PersistentVolumeClaim',
        metadata: {
          name: claimNameFor(t.metadata!.name!, sts, ordinal), namespace: sts.metadata.namespace!,
          labels: { ...t.metadata?.labels, ...sts.spec.selector.matchLabels },
          ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
          ...(sts.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete'
            ? { ownerReferences: [{ ...newControllerRef(sts), controller: false }] } : {}),
        },
        spec: structuredClone(t.spec),
      };
      try {
        await this.ctx.resources.create(resourceTypes.persistentvolumeclaims, claim);
        this.recordEvent(sts, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${podNameFor(sts, ordinal)} in StatefulSet ${sts.metadata.name} success`);
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) {
          this.recordEvent(sts, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${podNameFor(sts, ordinal)} in StatefulSet ${sts.metadata.name} failed error: ${(e as Error).message}`);
          throw e;
        }
      }
    }
  }

  async #createPod(sts: StatefulSet, ordinal: number, revision: ControllerRevision): Promise<void> {
    const podName = podNameFor(sts, ordinal);
    const pod = podFromTemplate(sts, templateOfRevision(revision), {
      labels: { [POD_NAME_LABEL]: podName, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision.metadata.name! },
    });
    delete pod.metadata.generateName;
    pod.metadata.name = podName;
    pod.spec.hostname = podName;
    if (sts.spec.serviceName) pod.spec.subdomain = sts.spec.serviceName;
    const claims = (sts.spec.volumeClaimTemplates ?? []).map((t) => ({ name: t.metadata!.name!, persistentVolumeClaim: { claimName: claimNameFor(t.metadata!.name!, sts, ordinal) } }));
    if (claims.length) pod.spec.volumes = [...(pod.spec.volumes ?? []).filter((v) => !claims.some((c) => c.name === v.name)), ...claims];
    try {
      await this.ctx.resources.create<Pod>(resourceTypes.pods, pod);
      this.recordEvent(sts, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${sts.metadata.name} successful`);
    } catch (e) {
      if (e instanceof AlreadyExistsError) return;
      this.recordEvent(sts, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${sts.metadata.name} failed error: ${(e as Error).message}`);
      throw e;
    }
  }

  /** whenScaled: Delete — the condemned pod owns its claims, so they go with it. */
  async #handClaimsTo(sts: StatefulSet, pod: Pod): Promise<void> {
    for (const v of pod.spec.volumes ?? []) {
      const claimName = (v['persistentVolumeClaim'] as { claimName?: string } | undefined)?.claimName;
      if (!claimName || !(sts.spec.volumeClaimTemplates ?? []).some((t) => v.name === t.metadata?.name)) continue;
      await this.ctx.resources.mutate<PersistentVolumeClaim>(resourceTypes.persistentvolumeclaims, pod.metadata.namespace, claimName, (c) => {
        const refs = c.metadata.ownerReferences ?? [];
        if (refs.some((r) => r.uid === pod.metadata.uid)) return undefined;
        const ref = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid!, controller: false, blockOwnerDeletion: true };
        return { ...c, metadata: { ...c.metadata, ownerReferences: [...refs, ref] } };
      }).catch(ignoreNotFound);
    }
  }
}
