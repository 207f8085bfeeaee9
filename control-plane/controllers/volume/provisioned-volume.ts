// The PersistentVolume the local-path provisioner makes for a claim: a hostPath directory under
// LOCAL_PATH_PREFIX named after the claim (as Rancher's provisioner names it), pinned to the node
// the scheduler chose, already claimed by (claimRef) the claim it was made for.
import { LOCAL_PATH_PREFIX } from '../../../api/local-path.js';
import type { Node } from '../../../api/types/node.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../resources/kinds/config.js';
import type { StorageClass } from '../../resources/kinds/storage.js';
import { HOSTNAME_LABEL, hostnameAffinity } from '../../resources/volume-node-affinity.js';

export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';

export const provisionedVolumeName = (claim: PersistentVolumeClaim): string => `pvc-${claim.metadata.uid}`;

export function provisionedVolume(claim: PersistentVolumeClaim, storageClass: StorageClass, node: Node): PersistentVolume {
  const name = provisionedVolumeName(claim);
  const { namespace, name: claimName, uid } = claim.metadata;
  const hostname = node.metadata.labels?.[HOSTNAME_LABEL] ?? node.metadata.name!;
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name, annotations: { [PROVISIONED_BY_ANNOTATION]: storageClass.provisioner } },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.['storage'] ?? '0' },
      accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
      storageClassName: storageClass.metadata.name!,
      volumeMode: 'Filesystem',
      hostPath: { path: `${LOCAL_PATH_PREFIX}/${name}_${namespace}_${claimName}`, type: 'DirectoryOrCreate' },
      nodeAffinity: hostnameAffinity(hostname),
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: namespace!, name: claimName!, uid: uid!, resourceVersion: claim.metadata.resourceVersion! },
    },
  };
}
