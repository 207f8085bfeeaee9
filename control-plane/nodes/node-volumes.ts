// What a node's desired state says about persistent volumes: for each pod, the node directory of
// each bound claim it mounts (a hostPath or local volume), and for the node, the local-path
// directories it must keep (those of volumes pinned to it or to no node): the agent removes the
// others once their volumes are gone (reclaim policy Delete).
import { NotFoundError } from '../../api/errors.js';
import { localPathDir } from '../../api/local-path.js';
import type { DesiredPod } from '../../api/mqtt/messages.js';
import type { Pod } from '../../api/types/pod.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../resources/kinds/config.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { volumeHostnames } from '../resources/volume-node-affinity.js';

export type ResolvedVolumes = NonNullable<DesiredPod['persistentVolumes']>;

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch((e: Error) => {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  });
}

/** The directory on the node a volume is (hostPath or local), or undefined for other sources. */
export const volumePath = (pv: PersistentVolume): string | undefined => pv.spec.hostPath?.path ?? pv.spec.local?.path;

/**
 * The pod's claim volumes resolved to node directories (only bound claims: the agent waits for the
 * others), and the keys of what was read (`claims/NS/NAME`, `volumes/NAME`): a change to one of
 * them republishes the node.
 */
export async function resolvePodVolumes(pod: Pod, resources: ResourceStore, refs: Set<string>): Promise<ResolvedVolumes | undefined> {
  const namespace = pod.metadata.namespace ?? 'default';
  let resolved: ResolvedVolumes | undefined;
  for (const v of pod.spec.volumes ?? []) {
    const claimName = (v['persistentVolumeClaim'] as { claimName?: unknown } | undefined)?.claimName;
    if (typeof claimName !== 'string') continue;
    refs.add(`claims/${namespace}/${claimName}`);
    const claim = await orUndefined(resources.get<PersistentVolumeClaim>(resourceTypes.persistentvolumeclaims, namespace, claimName));
    const volumeName = claim?.status?.phase === 'Bound' ? claim.spec.volumeName : undefined;
    if (!volumeName) continue;
    refs.add(`volumes/${volumeName}`);
    const pv = await orUndefined(resources.get<PersistentVolume>(resourceTypes.persistentvolumes, undefined, volumeName));
    if (!pv || pv.spec.claimRef?.uid !== claim!.metadata.uid) continue;
    const path = volumePath(pv);
    const source = Object.keys(pv.spec).find((k) => !['capacity', 'accessModes', 'claimRef', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeMode', 'mountOptions', 'nodeAffinity', 'volumeAttributesClassName'].includes(k));
    (resolved ??= {})[v.name] = path
      ? { volumeName, path }
      : { volumeName, error: `persistentvolume "${volumeName}" has a ${source ?? 'unknown'} source: skiff nodes mount only hostPath and local volumes` };
  }
  return resolved;
}

/** The nodes whose keep list a volume is on: those it is pinned to (undefined: every node). */
export const nodesOfVolume = (pv: PersistentVolume): string[] | undefined => volumeHostnames(pv);

/** Node paths of the local-path volumes the node keeps: pinned to it, or to no node. */
export async function nodeLocalVolumes(node: string, resources: ResourceStore): Promise<string[]> {
  const volumes = (await resources.list<PersistentVolume>(resourceTypes.persistentvolumes)).items;
  const paths: string[] = [];
  for (const pv of volumes) {
    const path = volumePath(pv);
    if (!path || localPathDir(path) === undefined) continue;
    const nodes = nodesOfVolume(pv);
    if (!nodes || nodes.includes(node)) paths.push(path);
  }
  return paths.sort();
}
