// The admission step every new PersistentVolumeClaim goes through: a claim without storageClassName
// gets the default class (the DefaultStorageClass plugin) and the kubernetes.io/pvc-protection
// finalizer (StorageObjectInUseProtection), so it is not removed while a pod uses it.
import type { KubeList } from '../../api/types/meta.js';
import type { PersistentVolumeClaim } from './kinds/config.js';
import type { StorageClass } from './kinds/storage.js';
import { resourceTypes, type ResourceType } from './resource-types.js';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';

export const isDefaultClass = (sc: StorageClass): boolean =>
  sc.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' || sc.metadata.annotations?.[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';

/** The default class; with several, the newest (as Kubernetes picks since 1.26), then by name. */
export function defaultClassOf(classes: readonly StorageClass[]): StorageClass | undefined {
  return classes.filter(isDefaultClass).sort((a, b) =>
    (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))[0];
}

/** Admission of a new claim (mutates it): default class, protection finalizer. */
export async function admitPersistentVolumeClaim(pvc: PersistentVolumeClaim,
  list: (type: ResourceType) => Promise<KubeList<StorageClass>>): Promise<void> {
  if (pvc.spec && typeof pvc.spec === 'object' && pvc.spec.storageClassName === undefined) {
    const def = defaultClassOf((await list(resourceTypes.storageclasses)).items);
    if (def?.metadata.name) pvc.spec.storageClassName = def.metadata.name;
  }
  const finalizers = pvc.metadata.finalizers ?? [];
  if (!finalizers.includes(PVC_PROTECTION_FINALIZER)) pvc.metadata.finalizers = [...finalizers, PVC_PROTECTION_FINALIZER];
}
