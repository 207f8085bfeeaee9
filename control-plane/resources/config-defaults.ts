// Defaulting of Secret (type, stringData -> data), PersistentVolume(Claim) and HorizontalPodAutoscaler.
import type { PersistentVolume, PersistentVolumeClaim, Secret } from './kinds/config.js';
import type { HorizontalPodAutoscaler } from './kinds/autoscaling.js';

export function defaultSecret(secret: Secret): void {
  secret.type ||= 'Opaque';
  // stringData is write-only: merged into data (base64) and never stored (the registry strategy does this).
  if (secret.stringData && typeof secret.stringData === 'object') {
    const data = { ...(secret.data ?? {}) };
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    secret.data = data;
  }
  delete secret.stringData;
}

export function defaultPersistentVolume(pv: PersistentVolume): void {
  const spec = (pv.spec ??= {});
  spec.persistentVolumeReclaimPolicy ??= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  pv.status ??= {};
  pv.status.phase ??= 'Pending';
}

export function defaultPersistentVolumeClaim(pvc: PersistentVolumeClaim): void {
  const spec = (pvc.spec ??= {});
  spec.volumeMode ??= 'Filesystem';
  pvc.status ??= {};
  pvc.status.phase ??= 'Pending';
}

export function defaultHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): void {
  const spec = (hpa.spec ??= {} as HorizontalPodAutoscaler['spec']);
  spec.minReplicas ??= 1;
  // autoscaling/v2 defaults an empty metric list to 80% average CPU utilisation.
  if (!spec.metrics || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
}
