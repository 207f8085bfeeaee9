// The scheduler's volume binding step (Kubernetes' VolumeBinding plugin, simplified): the
// PersistentVolumeClaims a pod mounts decide where it may go. A missing claim, an unknown class or
// an unbound Immediate claim leave the pod unschedulable; a bound claim's volume affinity limits the
// nodes; an unbound WaitForFirstConsumer claim goes where the pod goes: the scheduler writes the
// chosen node on the claim (volume.kubernetes.io/selected-node) before binding the pod, and the
// volume controller provisions (or binds) a volume there.
import { NotFoundError } from '../../api/errors.js';
import { LOCAL_PATH_PROVISIONERS, SELECTED_NODE_ANNOTATION } from '../../api/local-path.js';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { bestVolumeFor } from '../controllers/volume/claim-plan.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../resources/kinds/config.js';
import type { StorageClass } from '../resources/kinds/storage.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { volumeFitsNode } from '../resources/volume-node-affinity.js';

export interface VolumeConstraints {
  /** Why no node can take the pod (then nodeReason is never asked). */
  unresolvable?: string;
  /** Why this node cannot take the pod for its volumes, undefined when it can; absent when the
   * volumes limit no node (a search then need not look at every node for them). */
  nodeReason?(node: Node): string | undefined;
  /** Unbound WaitForFirstConsumer claims: they get the chosen node before the pod is bound. */
  claimsToSelect: PersistentVolumeClaim[];
}

/** The types whose changes may make a pod waiting on its volumes schedulable. */
export const volumeTypes = [resourceTypes.persistentvolumeclaims, resourceTypes.persistentvolumes, resourceTypes.storageclasses];

const none: VolumeConstraints = { claimsToSelect: [] };

/** Does the pod mount a PersistentVolumeClaim (only then can a claim, volume or class event help it)? */
export const mountsClaims = (pod: Pod): boolean => claimNames(pod).length > 0;

const claimNames = (pod: Pod): string[] => [...new Set((pod.spec.volumes ?? []).flatMap((v) => {
  const name = (v['persistentVolumeClaim'] as { claimName?: unknown } | undefined)?.claimName;
  return typeof name === 'string' ? [name] : [];
}))];

async function getOrUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch((e: Error) => {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  });
}

/** Reads the pod's claims (and their volumes and classes) and says where it may go. */
export async function podVolumeConstraints(pod: Pod, resources: ResourceStore, knownNodes: { has(name: string): boolean }): Promise<VolumeConstraints> {
  const names = claimNames(pod);
  if (names.length === 0) return none;
  const namespace = pod.metadata.namespace ?? 'default';
  const checks: Array<(node: Node) => string | undefined> = [];
  const claimsToSelect: PersistentVolumeClaim[] = [];
  let classes: StorageClass[] | undefined;
  let volumes: PersistentVolume[] | undefined;
  const unresolvable = (reason: string): VolumeConstraints => ({ unresolvable: reason, claimsToSelect: [] });
  for (const name of names) {
    const claim = await getOrUndefined(resources.get<PersistentVolumeClaim>(resourceTypes.persistentvolumeclaims, namespace, name));
    if (!claim) return unresolvable(`persistentvolumeclaim "${name}" not found`);
    if (claim.metadata.deletionTimestamp) return unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
    if (claim.spec.volumeName) {
      const pv = await getOrUndefined(resources.get<PersistentVolume>(resourceTypes.persistentvolumes, undefined, claim.spec.volumeName));
      if (!pv) return unresolvable(`persistentvolumeclaim "${name}" is bound to non-existent persistentvolume "${claim.spec.volumeName}"`);
      checks.push((node) => (volumeFitsNode(pv, node) ? undefined : 'node(s) had volume node affinity conflict'));
      continue;
    }
    classes ??= (await resources.list<StorageClass>(resourceTypes.storageclasses)).items;
    const className = claim.spec.storageClassName ?? '';
    const storageClass = classes.find((c) => c.metadata.name === className);
    if (className !== '' && !storageClass) return unresolvable(`storageclass.storage.k8s.io "${className}" not found`);
    if (storageClass?.volumeBindingMode !== 'WaitForFirstConsumer') return unresolvable('pod has unbound immediate PersistentVolumeClaims');
    claimsToSelect.push(claim);
    const selected = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
    if (selected && knownNodes.has(selected)) {
      // another pod already took this claim to a node: provisioning is under way there
      checks.push((node) => (node.metadata.name === selected ? undefined : "node(s) didn't match the node selected for an unbound PersistentVolumeClaim"));
    } else if (!LOCAL_PATH_PROVISIONERS.includes(storageClass.provisioner)) {
      volumes ??= (await resources.list<PersistentVolume>(resourceTypes.persistentvolumes)).items;
      const all = volumes;
      checks.push((node) => (bestVolumeFor(claim, all, node) ? undefined : "node(s) didn't find available persistent volumes to bind"));
    }
  }
  if (checks.length === 0) return { claimsToSelect };
  return {
    claimsToSelect,
    nodeReason: (node) => {
      for (const check of checks) {
        const why = check(node);
        if (why) return why;
      }
      return undefined;
    },
  };
}

/** Records the chosen node on each unbound WaitForFirstConsumer claim (skipped once a claim is bound). */
export async function selectNodeForClaims(resources: ResourceStore, claims: readonly PersistentVolumeClaim[], node: string): Promise<void> {
  for (const claim of claims) {
    await resources.mutate<PersistentVolumeClaim>(resourceTypes.persistentvolumeclaims, claim.metadata.namespace, claim.metadata.name!, (c) => {
      if (c.metadata.uid !== claim.metadata.uid || c.spec.volumeName || c.metadata.annotations?.[SELECTED_NODE_ANNOTATION] === node) return undefined;
      return { ...c, metadata: { ...c.metadata, annotations: { ...c.metadata.annotations, [SELECTED_NODE_ANNOTATION]: node } } };
    });
  }
}
