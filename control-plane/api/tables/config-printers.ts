// Table printers for configmaps, secrets, serviceaccounts, persistentvolumes(claims), horizontalpodautoscalers.
import type { HorizontalPodAutoscaler, MetricSpec } from '../../resources/kinds/autoscaling.js';
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret, ServiceAccount } from '../../resources/kinds/config.js';
import { ageOf } from './human-duration.js';
import { ageColumn, column, nameColumn, type KindPrinter } from './table-column.js';

const count = (m: Record<string, unknown> | undefined) => Object.keys(m ?? {}).length;

export const configMapPrinter: KindPrinter = {
  columns: [nameColumn, column('Data', 'Data contains the configuration data.', { type: 'integer' }), ageColumn],
  cells(obj, nowMs) {
    const cm = obj as ConfigMap;
    return [cm.metadata.name, count(cm.data) + count(cm.binaryData), ageOf(cm.metadata.creationTimestamp, nowMs)];
  },
};

export const secretPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Type', 'Used to facilitate programmatic handling of secret data.'),
    column('Data', 'Data contains the secret data.', { type: 'integer' }),
    ageColumn,
  ],
  cells(obj, nowMs) {
    const s = obj as Secret;
    return [s.metadata.name, s.type ?? 'Opaque', count(s.data), ageOf(s.metadata.creationTimestamp, nowMs)];
  },
};

export const serviceAccountPrinter: KindPrinter = {
  columns: [nameColumn, column('Secrets', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.', { type: 'integer' }), ageColumn],
  cells(obj, nowMs) {
    const sa = obj as ServiceAccount;
    return [sa.metadata.name, sa.secrets?.length ?? 0, ageOf(sa.metadata.creationTimestamp, nowMs)];
  },
};

const modeAbbreviations: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const accessModes = (modes: string[] | undefined) => (modes ?? []).map((m) => modeAbbreviations[m] ?? m).join(',');

export const persistentVolumePrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Capacity', 'capacity is the description of the persistent volume\'s resources and capacity.'),
    column('Access Modes', 'accessModes contains all ways the volume can be mounted.'),
    column('Reclaim Policy', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    column('Status', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    column('Claim', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    column('StorageClass', 'storageClassName is the name of StorageClass to which this persistent volume belongs.'),
    column('VolumeAttributesClass', 'Name of VolumeAttributesClass to which this persistent volume belongs.'),
    column('Reason', 'reason is a brief CamelCase string that describes any failure.'),
    ageColumn,
    column('VolumeMode', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', { priority: 1 }),
  ],
  cells(obj, nowMs) {
    const pv = obj as PersistentVolume;
    const claim = pv.spec?.claimRef ? `${pv.spec.claimRef.namespace ?? ''}/${pv.spec.claimRef.name ?? ''}` : '';
    return [pv.metadata.name, pv.spec?.capacity?.['storage'] ?? '', accessModes(pv.spec?.accessModes), pv.spec?.persistentVolumeReclaimPolicy ?? '',
      pv.status?.phase ?? '', claim, pv.spec?.storageClassName ?? '', '<unset>', pv.status?.reason ?? '',
      ageOf(pv.metadata.creationTimestamp, nowMs), pv.spec?.volumeMode ?? 'Filesystem'];
  },
};

export const persistentVolumeClaimPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Status', 'phase represents the current phase of PersistentVolumeClaim.'),
    column('Volume', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    column('Capacity', 'capacity represents the actual resources of the underlying volume.'),
    column('Access Modes', 'accessModes contains the desired access modes the volume should have.'),
    column('StorageClass', 'storageClassName is the name of the StorageClass required by the claim.'),
    column('VolumeAttributesClass', 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.'),
    ageColumn,
    column('VolumeMode', 'volumeMode defines what type of volume is required by the claim.', { priority: 1 }),
  ],
  cells(obj, nowMs) {
    const pvc = obj as PersistentVolumeClaim;
    const bound = pvc.status?.phase === 'Bound';
    return [pvc.metadata.name, pvc.status?.phase ?? '', pvc.spec?.volumeName ?? '', bound ? pvc.status?.capacity?.['storage'] ?? '' : '',
      bound ? accessModes(pvc.status?.accessModes) : '', pvc.spec?.storageClassName ?? '', '<unset>', ageOf(pvc.metadata.creationTimestamp, nowMs),
      pvc.spec?.volumeMode ?? 'Filesystem'];
  },
};

/** TARGETS: "cpu: <unknown>/80%" until the autoscaler reports current metrics. */
function targets(hpa: HorizontalPodAutoscaler): string {
  const metrics: MetricSpec[] = hpa.spec?.metrics ?? [];
  if (metrics.length === 0) return '<none>';
  const parts = metrics.map((m) => {
    if (m.type !== 'Resource' || !m.resource) return `<unknown>/<unknown>`;
    const current = hpa.status?.currentMetrics?.find((c) => c.type === 'Resource' && c.resource?.name === m.resource!.name)?.resource?.current;
    const t = m.resource.target;
    if (t.type === 'Utilization') return `${m.resource.name}: ${current?.averageUtilization !== undefined ? `${current.averageUtilization}%` : '<unknown>'}/${t.averageUtilization}%`;
    const want = t.averageValue ?? t.value ?? '<unknown>';
    return `${m.resource.name}: ${current?.averageValue ?? current?.value ?? '<unknown>'}/${want}`;
  });
  return parts.length > 2 ? `${parts.slice(0, 2).join(', ')} + ${parts.length - 2} more...` : parts.join(', ');
}

export const hpaPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Reference', 'reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.'),
    column('Targets', 'metrics contains the specifications for which to use to calculate the desired replica count.'),
    column('MinPods', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.', { type: 'integer' }),
    column('MaxPods', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.', { type: 'integer' }),
    column('Replicas', 'currentReplicas is current number of replicas of pods managed by this autoscaler.', { type: 'integer' }),
    ageColumn,
  ],
  cells(obj, nowMs) {
    const hpa = obj as HorizontalPodAutoscaler;
    const ref = hpa.spec?.scaleTargetRef;
    const min = hpa.spec?.minReplicas;
    return [hpa.metadata.name, ref ? `${ref.kind}/${ref.name}` : '', targets(hpa), min === undefined ? '<unset>' : min, hpa.spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0, ageOf(hpa.metadata.creationTimestamp, nowMs)];
  },
};
