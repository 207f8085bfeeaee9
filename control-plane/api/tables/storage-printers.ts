// Table printer for storageclasses (kubectl's columns; the default class is named "NAME (default)").
import type { StorageClass } from '../../resources/kinds/storage.js';
import { isDefaultClass } from '../../resources/storage-admission.js';
import { ageOf } from './human-duration.js';
import { ageColumn, column, nameColumn, type KindPrinter } from './table-column.js';

export const storageClassPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Provisioner', 'provisioner indicates the type of the provisioner.'),
    column('ReclaimPolicy', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
    column('VolumeBindingMode', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
    column('AllowVolumeExpansion', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    ageColumn,
  ],
  cells(obj, nowMs) {
    const sc = obj as StorageClass;
    const name = isDefaultClass(sc) ? `${sc.metadata.name} (default)` : sc.metadata.name;
    return [name, sc.provisioner, sc.reclaimPolicy ?? 'Delete', sc.volumeBindingMode ?? 'Immediate', String(sc.allowVolumeExpansion === true),
      ageOf(sc.metadata.creationTimestamp, nowMs)];
  },
};
