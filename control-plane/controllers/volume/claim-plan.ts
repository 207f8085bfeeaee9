// What the volume controller does next for one PersistentVolumeClaim, as a pure decision (like the
// PV controller's syncClaim): release its protection finalizer, keep a bound claim, bind it to a
// pre-bound or matching volume, provision one on the node the scheduler chose, or wait (and why).
import { LOCAL_PATH_PROVISIONERS, SELECTED_NODE_ANNOTATION } from '../../../api/local-path.js';
import type { Node } from '../../../api/types/node.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../resources/kinds/config.js';
import type { StorageClass } from '../../resources/kinds/storage.js';
import { quantityValue as parseQuantity } from '../../../api/quantity.js';
import { matchesLabelSelector } from '../../resources/selector-object.js';
import { defaultClassOf, PVC_PROTECTION_FINALIZER } from '../../resources/storage-admission.js';
import { volumeFitsNode } from '../../resources/volume-node-affinity.js';

export interface ClaimEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

export type ClaimAction =
  | { action: 'none' }
  | { action: 'releaseFinalizer' }
  | { action: 'setDefaultClass'; className: string }
  | { action: 'selectNode'; node: string }
  | { action: 'lost'; event: ClaimEvent }
  | { action: 'bind'; volume: PersistentVolume }
  | { action: 'provision'; node: Node; storageClass: StorageClass }
  | { action: 'wait'; event?: ClaimEvent; clearSelectedNode?: boolean };

export interface ClaimView {
  claim: PersistentVolumeClaim;
  volumes: readonly PersistentVolume[];
  classes: readonly StorageClass[];
  nodes: ReadonlyMap<string, Node>;
  /** A pod that has not terminated references the claim. */
  inUse: boolean;
  /** The node of a pod using the claim that was bound without the scheduler (spec.nodeName in its manifest, DaemonSet pods). */
  consumerNode?: string;
}

export const WAIT_FOR_FIRST_CONSUMER_MESSAGE = 'waiting for first consumer to be created before binding';

const wait = (type: ClaimEvent['type'], reason: string, message: string): ClaimAction => ({ action: 'wait', event: { type, reason, message } });

/** Whether the volume's claimRef names this claim (a uid, when set, must match too). */
export function refersToClaim(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec.claimRef;
  return !!ref && ref.name === claim.metadata.name && (ref.namespace ?? 'default') === claim.metadata.namespace
    && (!ref.uid || ref.uid === claim.metadata.uid);
}

export function planClaim(view: ClaimView): ClaimAction {
  const { claim, volumes } = view;
  if (claim.metadata.deletionTimestamp) {
    const protectedNow = (claim.metadata.finalizers ?? []).includes(PVC_PROTECTION_FINALIZER);
    return protectedNow && !view.inUse ? { action: 'releaseFinalizer' } : { action: 'none' };
  }
  const named = claim.spec.volumeName ? volumes.find((v) => v.metadata.name === claim.spec.volumeName) : undefined;
  if (claim.status?.phase === 'Bound' || claim.status?.phase === 'Lost') {
    if (named && refersToClaim(named, claim) && named.spec.claimRef?.uid) return { action: 'none' };
    if (claim.status.phase === 'Lost') return { action: 'none' };
    return { action: 'lost', event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' } };
  }
  if (claim.spec.volumeName) {
    if (!named) return { action: 'wait' };
    if (named.spec.claimRef && !refersToClaim(named, claim)) return wait('Warning', 'FailedBinding', `volume "${claim.spec.volumeName}" already bound to a different claim.`);
    return { action: 'bind', volume: named };
  }
  const preBound = volumes.find((v) => !v.metadata.deletionTimestamp && refersToClaim(v, claim));
  if (preBound) return { action: 'bind', volume: preBound };
  if (claim.spec.storageClassName === undefined) {
    const def = defaultClassOf(view.classes);
    if (def?.metadata.name) return { action: 'setDefaultClass', className: def.metadata.name };
  }
  const className = claim.spec.storageClassName ?? '';
  const storageClass = view.classes.find((c) => c.metadata.name === className);
  if (className !== '' && !storageClass) return wait('Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
  const selectedName = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
  if (storageClass?.volumeBindingMode === 'WaitForFirstConsumer' && !selectedName) {
    if (view.consumerNode) return { action: 'selectNode', node: view.consumerNode };
    return wait('Normal', 'WaitForFirstConsumer', WAIT_FOR_FIRST_CONSUMER_MESSAGE);
  }
  const selected = selectedName ? view.nodes.get(selectedName) : undefined;
  const match = bestVolumeFor(claim, volumes, selected);
  if (match) return { action: 'bind', volume: match };
  if (className === '') return wait('Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
  const provisioner = storageClass!.provisioner;
  if (!LOCAL_PATH_PROVISIONERS.includes(provisioner)) {
    return wait('Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
  }
  if (!selectedName) {
    return wait('Warning', 'ProvisioningFailed', `the ${provisioner} provisioner needs a node: give storage class "${className}" volumeBindingMode WaitForFirstConsumer`);
  }
  if (!selected) return { action: 'wait', event: { type: 'Warning', reason: 'ProvisioningFailed', message: `node "${selectedName}" not found` }, clearSelectedNode: true };
  return { action: 'provision', node: selected, storageClass: storageClass! };
}

const storageOf = (q: Record<string, string> | undefined) => parseQuantity(String(q?.['storage'] ?? '0')) ?? 0;

/** The smallest unclaimed volume that satisfies the claim (class, mode, access modes, size, selector, node). */
export function bestVolumeFor(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[], node: Node | undefined): PersistentVolume | undefined {
  const want = storageOf(claim.spec.resources?.requests);
  const candidates = volumes.filter((v) => !v.spec.claimRef && !v.metadata.deletionTimestamp
    && (v.status?.phase === 'Available' || v.status?.phase === 'Pending' || v.status?.phase === undefined)
    && (v.spec.storageClassName ?? '') === (claim.spec.storageClassName ?? '')
    && (v.spec.volumeMode ?? 'Filesystem') === (claim.spec.volumeMode ?? 'Filesystem')
    && (claim.spec.accessModes ?? []).every((m) => (v.spec.accessModes ?? []).includes(m))
    && storageOf(v.spec.capacity) >= want
    && (!claim.spec.selector || matchesLabelSelector(claim.spec.selector, v.metadata.labels))
    && (!node || volumeFitsNode(v, node)));
  return candidates.sort((a, b) => storageOf(a.spec.capacity) - storageOf(b.spec.capacity) || (a.metadata.name! < b.metadata.name! ? -1 : 1))[0];
}
