// TypeScript shape of apps/v1 StatefulSet (stable pod names, per-replica claims, partitioned rolling updates).
import type { Condition, KubeObject, ObjectMeta } from '../../../api/types/meta.js';
import type { PersistentVolumeClaim } from './config.js';
import type { LabelSelector, PodTemplateSpec } from './workloads.js';

export interface StatefulSetUpdateStrategy {
  type?: 'RollingUpdate' | 'OnDelete';
  rollingUpdate?: { partition?: number; maxUnavailable?: number | string };
}

export interface StatefulSetSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  serviceName?: string;
  podManagementPolicy?: 'OrderedReady' | 'Parallel';
  updateStrategy?: StatefulSetUpdateStrategy;
  volumeClaimTemplates?: Array<{ apiVersion?: string; kind?: string; metadata?: ObjectMeta; spec: PersistentVolumeClaim['spec']; status?: PersistentVolumeClaim['status'] }>;
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' };
  ordinals?: { start?: number };
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  conditions?: Condition[];
}

export interface StatefulSet extends KubeObject {
  apiVersion: 'apps/v1';
  kind: 'StatefulSet';
  spec: StatefulSetSpec;
  status?: StatefulSetStatus;
}
