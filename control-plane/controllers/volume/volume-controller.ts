// The volume controller (Kubernetes' PV controller, pvc-protection controller and a local-path
// provisioner in one): binds claims to pre-bound or matching volumes, provisions a local-path
// volume on the node the scheduler chose for a WaitForFirstConsumer claim, keeps the phases of
// volumes, deletes Released volumes whose policy is Delete, and lets a deleted claim go once no pod
// uses it. Keys: `claims/NAMESPACE/NAME`, `volumes/NAME`.
import { AlreadyExistsError, NotFoundError } from '../../../api/errors.js';
import { SELECTED_NODE_ANNOTATION } from '../../../api/local-path.js';
import type { Node } from '../../../api/types/node.js';
import { isTerminalPhase, type Pod } from '../../../api/types/pod.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../resources/kinds/config.js';
import type { StorageClass } from '../../resources/kinds/storage.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { PVC_PROTECTION_FINALIZER } from '../../resources/storage-admission.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { byName } from '../../reconcile/owned-objects.js';
import { planClaim, type ClaimEvent } from './claim-plan.js';
import { provisionedVolume } from './provisioned-volume.js';
import { planVolume } from './volume-plan.js';

const { persistentvolumeclaims: claimsType, persistentvolumes: volumesType, storageclasses: classesType } = resourceTypes;
const BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
const BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';

const orNotFound = <T>(p: Promise<T>): Promise<T | undefined> => p.catch((e: Error) => {
  if (e instanceof NotFoundError) return undefined;
  throw e;
});

/** Names of the claims a pod's volumes reference. */
export const claimNamesOf = (pod: Pod): string[] => (pod.spec.volumes ?? []).flatMap((v) => {
  const name = (v['persistentVolumeClaim'] as { claimName?: unknown } | undefined)?.claimName;
  return typeof name === 'string' && name ? [name] : [];
});

export class VolumeController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'persistentvolume-controller');
  }

  start(): void {
    this.watch<PersistentVolumeClaim>(claimsType, (type, c) => {
      this.enqueue(`claims/${c.metadata.namespace}/${c.metadata.name}`);
      if (type === 'DELETED' && c.spec?.volumeName) this.enqueue(`volumes/${c.spec.volumeName}`);
    });
    this.watch<PersistentVolume>(volumesType, (_t, v) => {
      this.enqueue(`volumes/${v.metadata.name}`);
      const ref = v.spec?.claimRef;
      if (ref?.name) this.enqueue(`claims/${ref.namespace ?? 'default'}/${ref.name}`);
    });
    // a pod that ends or goes may let a deleted claim go; one bound to a node may choose its volume's node
    this.watch<Pod>(resourceTypes.pods, (type, pod) => {
      if (type !== 'DELETED' && !isTerminalPhase(pod.status?.phase) && !pod.spec.nodeName) return;
      for (const name of claimNamesOf(pod)) this.enqueue(`claims/${pod.metadata.namespace}/${name}`);
    });
    this.watch<StorageClass>(classesType, () => {
      for (const c of this.informers.for<PersistentVolumeClaim>(claimsType).list()) {
        if (c.status?.phase !== 'Bound') this.enqueue(`claims/${c.metadata.namespace}/${c.metadata.name}`);
      }
    });
  }

  async reconcile(key: string): Promise<void> {
    const [kind, ...rest] = key.split('/');
    if (kind === 'volumes') return this.#reconcileVolume(rest.join('/'));
    return this.#reconcileClaim(rest[0]!, rest.slice(1).join('/'));
  }

  async #reconcileClaim(namespace: string, name: string): Promise<void> {
    const { resources } = this.ctx;
    const claim = await orNotFound(resources.get<PersistentVolumeClaim>(claimsType, namespace, name));
    if (!claim) return;
    const volumes = byName((await this.cache<PersistentVolume>(volumesType)).list());
    const classes = byName((await this.cache<StorageClass>(classesType)).list());
    const nodes = new Map<string, Node>();
    const selected = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
    if (selected) {
      const node = await orNotFound(resources.get<Node>(resourceTypes.nodes, undefined, selected));
      if (node) nodes.set(selected, node);
    }
    const users = await this.#users(claim);
    const consumerNode = users.find((p) => p.spec.nodeName)?.spec.nodeName;
    const plan = planClaim({ claim, volumes, classes, nodes, inUse: users.length > 0, ...(consumerNode ? { consumerNode } : {}) });
    switch (plan.action) {
      case 'none': return;
      case 'releaseFinalizer':
        await this.#mutateClaim(claim, (c) => ({ ...c, metadata: { ...c.metadata, finalizers: (c.metadata.finalizers ?? []).filter((f) => f !== PVC_PROTECTION_FINALIZER) } }));
        return;
      case 'selectNode':
        await this.#mutateClaim(claim, (c) => (c.metadata.annotations?.[SELECTED_NODE_ANNOTATION] ? undefined
          : { ...c, metadata: { ...c.metadata, annotations: { ...c.metadata.annotations, [SELECTED_NODE_ANNOTATION]: plan.node } } }));
        return;
      case 'setDefaultClass':
        await this.#mutateClaim(claim, (c) => (c.spec.storageClassName === undefined ? { ...c, spec: { ...c.spec, storageClassName: plan.className } } : undefined));
        return;
      case 'lost':
        await this.#mutateClaim(claim, (c) => ({ ...c, status: { ...c.status, phase: 'Lost' } }), 'status');
        this.#event(claim, plan.event);
        return;
      case 'bind':
        await this.#bind(claim, plan.volume);
        return;
      case 'provision':
        await this.#provision(claim, plan.storageClass, plan.node);
        return;
      case 'wait':
        if (plan.event) this.#event(claim, plan.event);
        if (plan.clearSelectedNode) {
          await this.#mutateClaim(claim, (c) => {
            const { [SELECTED_NODE_ANNOTATION]: _gone, ...annotations } = c.metadata.annotations ?? {};
            return { ...c, metadata: { ...c.metadata, annotations } };
          });
        }
    }
  }

  async #provision(claim: PersistentVolumeClaim, storageClass: StorageClass, node: Node): Promise<void> {
    const desired = provisionedVolume(claim, storageClass, node);
    let volume: PersistentVolume;
    try {
      volume = await this.ctx.resources.create<PersistentVolume>(volumesType, desired);
      this.#event(claim, { type: 'Normal', reason: 'ProvisioningSucceeded', message: `Successfully provisioned volume ${desired.metadata.name}` });
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      volume = await this.ctx.resources.get<PersistentVolume>(volumesType, undefined, desired.metadata.name!);
    }
    await this.#bind(claim, volume);
  }

  /** Binds in the PV controller's order: volume claimRef, volume phase, claim volumeName, claim phase. */
  async #bind(claim: PersistentVolumeClaim, volume: PersistentVolume): Promise<void> {
    const { resources } = this.ctx;
    const uid = claim.metadata.uid!;
    const claimRef = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace!, name: claim.metadata.name!, uid, resourceVersion: claim.metadata.resourceVersion! };
    let pv = await resources.mutate<PersistentVolume>(volumesType, undefined, volume.metadata.name!, (v) => {
      if (v.spec.claimRef?.uid === uid) return undefined;
      if (v.spec.claimRef && (v.spec.claimRef.name !== claimRef.name || (v.spec.claimRef.namespace ?? 'default') !== claimRef.namespace || v.spec.claimRef.uid)) {
        throw new Error(`volume ${v.metadata.name} was claimed by ${v.spec.claimRef.namespace}/${v.spec.claimRef.name} meanwhile`);
      }
      const byController: Record<string, string> = v.spec.claimRef ? {} : { [BOUND_BY_CONTROLLER]: 'yes' };
      return { ...v, metadata: { ...v.metadata, annotations: { ...v.metadata.annotations, ...byController } }, spec: { ...v.spec, claimRef } };
    });
    if (pv.status?.phase !== 'Bound') {
      pv = await resources.mutate<PersistentVolume>(volumesType, undefined, pv.metadata.name!, (v) => ({ ...v, status: { ...v.status, phase: 'Bound' } }), { subresource: 'status' });
    }
    await this.#mutateClaim(claim, (c) => {
      if (c.spec.volumeName === pv.metadata.name && c.metadata.annotations?.[BIND_COMPLETED] === 'yes') return undefined;
      const byController: Record<string, string> = c.spec.volumeName ? {} : { [BOUND_BY_CONTROLLER]: 'yes' };
      return {
        ...c,
        metadata: { ...c.metadata, annotations: { ...c.metadata.annotations, [BIND_COMPLETED]: 'yes', ...byController } },
        spec: { ...c.spec, volumeName: pv.metadata.name! },
      };
    });
    await this.#mutateClaim(claim, (c) => (c.status?.phase === 'Bound' ? undefined : {
      ...c, status: { ...c.status, phase: 'Bound', accessModes: pv.spec.accessModes ?? [], capacity: pv.spec.capacity ?? {} },
    }), 'status');
  }

  async #reconcileVolume(name: string): Promise<void> {
    const { resources } = this.ctx;
    const pv = await orNotFound(resources.get<PersistentVolume>(volumesType, undefined, name));
    if (!pv) return;
    const ref = pv.spec.claimRef;
    const claim = ref?.name ? await orNotFound(resources.get<PersistentVolumeClaim>(claimsType, ref.namespace ?? 'default', ref.name)) : undefined;
    const plan = planVolume(pv, claim);
    if (plan.action === 'phase') {
      await orNotFound(resources.mutate<PersistentVolume>(volumesType, undefined, name, (v) => ({ ...v, status: { ...v.status, phase: plan.phase } }), { subresource: 'status' }));
    } else if (plan.action === 'delete') {
      await orNotFound(resources.delete(volumesType, undefined, name, { preconditions: { uid: pv.metadata.uid! } }));
      this.ctx.logger.info({ volume: name, claim: `${ref?.namespace}/${ref?.name}` }, 'deleted a released volume (reclaim policy Delete)');
    }
  }

  /** The pods that have not terminated and reference the claim (pvc-protection, consumers). */
  async #users(claim: PersistentVolumeClaim): Promise<Pod[]> {
    const pods = byName((await this.cache<Pod>(resourceTypes.pods)).byIndex('namespace', claim.metadata.namespace!));
    return pods.filter((p) => !isTerminalPhase(p.status?.phase) && claimNamesOf(p).includes(claim.metadata.name!));
  }

  async #mutateClaim(claim: PersistentVolumeClaim, fn: (c: PersistentVolumeClaim) => PersistentVolumeClaim | undefined, subresource?: 'status'): Promise<void> {
    await orNotFound(this.ctx.resources.mutate<PersistentVolumeClaim>(claimsType, claim.metadata.namespace, claim.metadata.name!, (c) => {
      if (c.metadata.uid !== claim.metadata.uid) return undefined; // a new claim of the same name
      return fn(c);
    }, subresource ? { subresource } : {}));
  }

  #event(claim: PersistentVolumeClaim, event: ClaimEvent): void {
    this.recordEvent(claim, event.type, event.reason, event.message);
  }
}
