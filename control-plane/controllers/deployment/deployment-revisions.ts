// Pure revision bookkeeping for Deployments: which ReplicaSet is "new" (its template equals the
// Deployment's, ignoring the hash label and empty values), the revision numbers kubectl rollout
// history/undo read, the ReplicaSet a new template gets, and which old ones history keeps.
import type { KubeObject } from '../../../api/types/meta.js';
import { newControllerRef } from '../controller-ref.js';
import { POD_TEMPLATE_HASH, resolveIntOrPercent, templateHash, templatesEqual } from '../pod-template.js';
import type { Deployment, ReplicaSet } from '../workload-kinds.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/** Deployment annotations never copied to its ReplicaSets (Kubernetes' annotationsToSkip). */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', REVISION, 'deployment.kubernetes.io/revision-history',
  DESIRED_REPLICAS, MAX_REPLICAS, 'deprecated.deployment.rollback.to',
]);

export const revisionOf = (obj: KubeObject): number => Number(obj.metadata.annotations?.[REVISION] ?? 0) || 0;

export function maxRevision(replicaSets: readonly ReplicaSet[]): number {
  return replicaSets.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

/** The ReplicaSet running the Deployment's current template (the oldest one, if several do). */
export function findNewReplicaSet(d: Deployment, replicaSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...replicaSets].sort(byCreation).find((rs) => templatesEqual(rs.spec.template, d.spec.template));
}

export function byCreation(a: KubeObject, b: KubeObject): number {
  const t = (Date.parse(a.metadata.creationTimestamp ?? '') || 0) - (Date.parse(b.metadata.creationTimestamp ?? '') || 0);
  return t || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

/** The annotations a ReplicaSet of this Deployment should carry (change-cause and friends, revision, replica counts). */
export function replicaSetAnnotations(d: Deployment, revision: number, existing: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = { ...existing };
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!NOT_COPIED.has(k)) out[k] = v;
  out[REVISION] = String(revision);
  out[DESIRED_REPLICAS] = String(d.spec.replicas ?? 1);
  out[MAX_REPLICAS] = String((d.spec.replicas ?? 1) + maxSurgeOf(d));
  return out;
}

/** The new ReplicaSet for the Deployment's template: name-hash, hash label in selector and template, 0 replicas. */
export function newReplicaSetFor(d: Deployment, revision: number, collisionCount = 0): ReplicaSet {
  const hash = templateHash(d.spec.template, collisionCount);
  const template = structuredClone(d.spec.template);
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash } };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace!,
      labels: { ...d.spec.template.metadata?.labels, [POD_TEMPLATE_HASH]: hash },
      annotations: replicaSetAnnotations(d, revision),
      ownerReferences: [newControllerRef(d)],
    },
    spec: {
      replicas: 0,
      minReadySeconds: d.spec.minReadySeconds ?? 0,
      selector: { ...d.spec.selector, matchLabels: { ...d.spec.selector.matchLabels, [POD_TEMPLATE_HASH]: hash } },
      template,
    },
  };
}

/** Old ReplicaSets beyond revisionHistoryLimit that are fully scaled down, oldest revision first. */
export function replicaSetsToPrune(d: Deployment, oldReplicaSets: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = d.spec.revisionHistoryLimit ?? 10;
  const idle = oldReplicaSets
    .filter((rs) => (rs.spec.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp)
    .sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  return idle.slice(0, Math.max(0, idle.length - limit));
}

export function maxSurgeOf(d: Deployment): number {
  if (d.spec.strategy?.type === 'Recreate') return 0;
  return resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxSurge, d.spec.replicas ?? 1, true, '25%');
}

export function maxUnavailableOf(d: Deployment): number {
  if (d.spec.strategy?.type === 'Recreate') return 0;
  const replicas = d.spec.replicas ?? 1;
  const unavailable = resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxUnavailable, replicas, false, '25%');
  // both zero would deadlock a rollout; Kubernetes then allows one unavailable
  if (unavailable === 0 && maxSurgeOf(d) === 0) return Math.min(1, replicas);
  return Math.min(unavailable, replicas);
}
