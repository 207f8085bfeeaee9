// Builders for controller tests: ReplicaSets, Deployments and pods in the states controllers judge.
import type { Pod } from '../../../api/types/pod.js';
import type { Deployment, ReplicaSet } from '../../../control-plane/controllers/workload-kinds.js';

export const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function aTemplate(image = 'examples/sleep:latest', labels: Record<string, string> = { app: 'web' }) {
  return { metadata: { labels }, spec: { containers: [{ name: 'main', image }] } };
}

export function aReplicaSet(name: string, over: { replicas?: number; available?: number; revision?: number; image?: string; createdMs?: number; uid?: string } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name, namespace: 'default', uid: over.uid ?? `uid-${name}`, generation: 1, creationTimestamp: iso(over.createdMs ?? T0),
      annotations: { 'deployment.kubernetes.io/revision': String(over.revision ?? 1) },
    },
    spec: { replicas: over.replicas ?? 1, selector: { matchLabels: { app: 'web' } }, template: aTemplate(over.image) },
    status: { replicas: over.replicas ?? 1, availableReplicas: over.available ?? over.replicas ?? 1, readyReplicas: over.available ?? over.replicas ?? 1 },
  };
}

export function aDeployment(over: { replicas?: number; image?: string; maxSurge?: number | string; maxUnavailable?: number | string; recreate?: boolean; generation?: number; progressDeadlineSeconds?: number } = {}): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-web', generation: over.generation ?? 1 },
    spec: {
      replicas: over.replicas ?? 3, selector: { matchLabels: { app: 'web' } }, template: aTemplate(over.image),
      strategy: over.recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: over.maxSurge ?? 1, maxUnavailable: over.maxUnavailable ?? 0 } },
      ...(over.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: over.progressDeadlineSeconds } : {}),
    },
  };
}

export function aManagedPod(name: string, over: { owner?: string; labels?: Record<string, string>; node?: string; ready?: boolean; readySinceMs?: number; phase?: Pod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never; createdMs?: number; deleting?: boolean; restarts?: number } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, labels: over.labels ?? { app: 'web' }, creationTimestamp: iso(over.createdMs ?? T0),
      ...(over.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: over.owner, uid: `uid-${over.owner}`, controller: true }] } : {}),
      ...(over.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: { containers: [{ name: 'main', image: 'x' }], ...(over.node ? { nodeName: over.node } : {}) },
    status: {
      phase: over.phase ?? (over.node ? 'Running' : 'Pending'),
      conditions: over.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: iso(over.readySinceMs ?? T0) }] : [],
      ...(over.restarts ? { containerStatuses: [{ name: 'main', state: {}, ready: true, restartCount: over.restarts, image: 'x', imageID: '' }] } : {}),
    },
  };
}
