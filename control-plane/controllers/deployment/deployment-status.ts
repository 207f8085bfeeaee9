// Pure Deployment status: the counts and the Available/Progressing conditions `kubectl rollout
// status` reads, including ProgressDeadlineExceeded when no progress is made for
// progressDeadlineSeconds.
import type { Condition } from '../../../api/types/meta.js';
import { rfc3339 } from '../../../api/clock.js';
import type { Deployment, ReplicaSet } from '../workload-kinds.js';
import { maxUnavailableOf } from './deployment-revisions.js';

export type DeploymentStatus = NonNullable<Deployment['status']>;
type DeploymentCondition = Condition & { lastUpdateTime?: string };

export interface StatusPlan {
  status: DeploymentStatus;
  /** Reconcile again then, to judge the progress deadline. */
  requeueAfterMs?: number;
}

const sum = (rss: readonly ReplicaSet[], f: (rs: ReplicaSet) => number | undefined) => rss.reduce((n, rs) => n + (f(rs) ?? 0), 0);

export function isRolloutComplete(d: Deployment, status: DeploymentStatus): boolean {
  const replicas = d.spec.replicas ?? 1;
  return status.updatedReplicas === replicas && status.replicas === replicas && (status.availableReplicas ?? 0) >= replicas
    && (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 1);
}

/** `event`: what this sync did to the new ReplicaSet, for the Progressing reason. */
export function planDeploymentStatus(d: Deployment, newRS: ReplicaSet | undefined, allRSs: readonly ReplicaSet[], nowMs: number,
  event?: 'NewReplicaSetCreated' | 'FoundNewReplicaSet'): StatusPlan {
  const replicas = d.spec.replicas ?? 1;
  const previous = d.status ?? {};
  const available = sum(allRSs, (rs) => rs.status?.availableReplicas);
  const total = sum(allRSs, (rs) => rs.status?.replicas);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: total,
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum(allRSs, (rs) => rs.status?.readyReplicas),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicas - available),
    ...(previous.collisionCount ? { collisionCount: previous.collisionCount } : {}),
  };
  const now = rfc3339(nowMs);
  let conditions = [...(previous.conditions ?? [])];
  const setCondition = (c: Condition, keepUpdateTimeIfSame = false) => {
    const old = conditions.find((x) => x.type === c.type);
    const same = old && old.status === c.status && old.reason === c.reason;
    const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime ?? now : now;
    const lastUpdateTime = same && keepUpdateTimeIfSame ? (old as DeploymentCondition).lastUpdateTime ?? now : now;
    if (same && old.message === c.message && keepUpdateTimeIfSame) return;
    conditions = conditions.filter((x) => x.type !== c.type);
    conditions.push({ ...c, lastTransitionTime, lastUpdateTime } as Condition);
  };
  const minAvailable = replicas - maxUnavailableOf(d);
  if (available >= minAvailable) setCondition({ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, true);
  else setCondition({ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, true);

  const rsName = newRS?.metadata.name ?? '';
  const progressing = conditions.find((c) => c.type === 'Progressing');
  const deadlineS = d.spec.progressDeadlineSeconds;
  let requeueAfterMs: number | undefined;
  if (d.spec.paused) {
    setCondition({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, true);
  } else if (isRolloutComplete(d, status)) {
    setCondition({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }, true);
  } else if (event === 'NewReplicaSetCreated') {
    setCondition({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` });
  } else if (progressing?.reason === 'DeploymentPaused' || !progressing || hasProgressed(previous, status) || event === 'FoundNewReplicaSet' && progressing.reason === 'NewReplicaSetAvailable') {
    setCondition({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` });
  } else if (deadlineS !== undefined && progressing.reason !== 'ProgressDeadlineExceeded') {
    const since = Date.parse((progressing as DeploymentCondition).lastUpdateTime ?? progressing.lastTransitionTime ?? now);
    const deadlineMs = since + deadlineS * 1000;
    if (nowMs >= deadlineMs) {
      setCondition({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` });
    } else requeueAfterMs = deadlineMs - nowMs;
  }
  const p = conditions.find((c) => c.type === 'Progressing');
  if (requeueAfterMs === undefined && deadlineS !== undefined && p?.status === 'True' && p.reason !== 'NewReplicaSetAvailable' && !isRolloutComplete(d, status)) {
    requeueAfterMs = deadlineS * 1000;
  }
  // Kubernetes lists Available before Progressing
  conditions.sort((a, b) => order(a.type) - order(b.type));
  status.conditions = conditions;
  return { status, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}

const order = (type: string) => (type === 'Available' ? 0 : type === 'Progressing' ? 1 : 2);

function hasProgressed(before: DeploymentStatus, after: DeploymentStatus): boolean {
  return (after.updatedReplicas ?? 0) > (before.updatedReplicas ?? 0)
    || (after.replicas ?? 0) < (before.replicas ?? 0)
    || (after.readyReplicas ?? 0) > (before.readyReplicas ?? 0)
    || (after.availableReplicas ?? 0) > (before.availableReplicas ?? 0);
}
