// The default StorageClass `local-path` (provisioner skiff.dev/local-path, WaitForFirstConsumer,
// reclaim Delete), created at control-plane start when absent, as K3s ships it.
import { AlreadyExistsError } from '../../api/errors.js';
import { LOCAL_PATH_PROVISIONER } from '../../api/local-path.js';
import type { StorageClass } from './kinds/storage.js';
import type { ResourceStore } from './resource-store.js';
import { resourceTypes } from './resource-types.js';
import { DEFAULT_CLASS_ANNOTATION } from './storage-admission.js';

export const LOCAL_PATH_CLASS = 'local-path';

export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** Creates the `local-path` class when there is none of that name (a changed one is left alone). */
export async function ensureDefaultStorageClass(resources: ResourceStore): Promise<void> {
  await resources.create(resourceTypes.storageclasses, localPathStorageClass()).catch((err: unknown) => {
    if (!(err instanceof AlreadyExistsError)) throw err;
  });
}
