// Pure StatefulSet planning, after Kubernetes' stateful_set_control: pods web-0..N-1 with stable
// names and claims, created in order (OrderedReady: one at a time, each Running and Ready before
// the next; Parallel: all at once), removed from the highest ordinal down, and a rolling update
// that replaces pods from the highest ordinal down to the partition, one at a time (or up to
// rollingUpdate.maxUnavailable at once). Each call
// plans one step; the controller runs again on the pod events that step causes.
import type { Pod } from '../../../api/types/pod.js';
import { isPodAvailable, isPodReady } from '../pod-readiness.js';
import type { StatefulSet } from '../workload-kinds.js';

export const REVISION_LABEL = 'controller-revision-hash';
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export interface StatefulPlan {
  /** Ordinals to create, each with the revision (name) whose template it gets. */
  create: Array<{ ordinal: number; revision: string }>;
  /** Pods to delete (failed ones, condemned ones on scale-down, outdated ones in a rolling update). */
  delete: Pod[];
  /** Of `delete`, the pods removed by a scale-down (their claims follow whenScaled). */
  condemned: Pod[];
  status: NonNullable<StatefulSet['status']>;
}

/** The ordinal a pod's name gives for this StatefulSet (`<set>-<ordinal>`), if it is one. */
export function ordinalOf(setName: string, podName: string | undefined): number | undefined {
  if (!podName?.startsWith(`${setName}-`)) return undefined;
  const tail = podName.slice(setName.length + 1);
  return /^(0|[1-9]\d{0,9})$/.test(tail) ? Number(tail) : undefined;
}

export const podNameFor = (sts: StatefulSet, ordinal: number): string => `${sts.metadata.name}-${ordinal}`;
export const claimNameFor = (template: string, sts: StatefulSet, ordinal: number): string => `${template}-${podNameFor(sts, ordinal)}`;

const isTerminating = (pod: Pod) => Boolean(pod.metadata.deletionTimestamp);
const isFinished = (pod: Pod) => pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
const isRunningAndReady = (pod: Pod) => pod.status?.phase === 'Running' && isPodReady(pod);
const revisionOf = (pod: Pod) => pod.metadata.labels?.[REVISION_LABEL];

export function planStatefulSet(sts: StatefulSet, owned: readonly Pod[], revisions: { current: string; update: string }, nowMs: number): StatefulPlan {
  const start = sts.spec.ordinals?.start ?? 0;
  const count = sts.spec.replicas ?? 1;
  const minReady = sts.spec.minReadySeconds ?? 0;
  const replicas: Array<Pod | undefined> = Array.from({ length: count });
  const condemned: Pod[] = [];
  for (const pod of owned) {
    const ordinal = ordinalOf(sts.metadata.name!, pod.metadata.name);
    if (ordinal === undefined) continue;
    if (ordinal >= start && ordinal < start + count) replicas[ordinal - start] = pod;
    else condemned.push(pod);
  }
  condemned.sort((a, b) => ordinalOf(sts.metadata.name!, b.metadata.name)! - ordinalOf(sts.metadata.name!, a.metadata.name)!);

  const status = statusOf(sts, [...replicas.filter((p): p is Pod => p !== undefined), ...condemned], revisions, nowMs);
  const plan: StatefulPlan = { create: [], delete: [], condemned: [], status };
  if (sts.metadata.deletionTimestamp) return plan;
  const monotonic = sts.spec.podManagementPolicy !== 'Parallel';
  const rolling = (sts.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const partition = rolling ? sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0 : 0;
  const revisionFor = (ordinal: number) => (rolling && ordinal < start + partition ? revisions.current : revisions.update);

  // scale up and repair: every ordinal in range gets a pod, in order when monotonic
  for (let i = 0; i < replicas.length; i++) {
    const pod = replicas[i];
    if (pod && isFinished(pod) && !isTerminating(pod)) {
      plan.delete.push(pod);
      if (monotonic) return plan;
      continue;
    }
    if (!pod) {
      plan.create.push({ ordinal: start + i, revision: revisionFor(start + i) });
      if (monotonic) return plan;
      continue;
    }
    if (monotonic && (isTerminating(pod) || !isRunningAndReady(pod) || !isPodAvailable(pod, minReady, nowMs))) return plan;
  }
  // scale down: highest ordinal first; when monotonic one at a time, and only while the rest are healthy
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return plan;
      continue;
    }
    if (monotonic) {
      const unhealthy = [...replicas, ...condemned].find((p) => p && p !== pod && (isTerminating(p) || !isRunningAndReady(p)));
      if (unhealthy) return plan;
    }
    plan.delete.push(pod);
    plan.condemned.push(pod);
    if (monotonic) return plan;
  }
  if (!rolling || plan.delete.length || plan.create.length) return plan;
  const maxUnavailable = scaledMaxUnavailable(sts.spec.updateStrategy?.rollingUpdate?.maxUnavailable, replicas.length);
  if (maxUnavailable !== undefined) {
    // maxUnavailable: up to that many pods of the set unavailable at once, outdated ones replaced from the top
    const unavailable = replicas.filter((p) => !p || isTerminating(p) || !isRunningAndReady(p) || !isPodAvailable(p, minReady, nowMs)).length;
    for (let i = replicas.length - 1; i >= partition && plan.delete.length < maxUnavailable - unavailable; i--) {
      const pod = replicas[i]!;
      if (revisionOf(pod) !== revisions.update && !isTerminating(pod)) plan.delete.push(pod);
    }
    return plan;
  }
  // rolling update: from the highest ordinal down to the partition, one pod at a time
  for (let i = replicas.length - 1; i >= partition; i--) {
    const pod = replicas[i]!;
    if (revisionOf(pod) !== revisions.update && !isTerminating(pod)) {
      plan.delete.push(pod);
      return plan;
    }
    if (!isRunningAndReady(pod) || isTerminating(pod)) return plan;
  }
  return plan;
}

/** rollingUpdate.maxUnavailable as a pod count (a percentage of replicas rounded up, at least 1); undefined when unset. */
function scaledMaxUnavailable(value: number | string | undefined, replicas: number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? Math.max(1, value) : undefined;
  const percent = typeof value === 'string' ? /^(\d{1,3})%$/.exec(value) : null;
  return percent ? Math.max(1, Math.ceil((Number(percent[1]) * replicas) / 100)) : undefined;
}

function statusOf(sts: StatefulSet, pods: readonly Pod[], revisions: { current: string; update: string }, nowMs: number): NonNullable<StatefulSet['status']> {
  const minReady = sts.spec.minReadySeconds ?? 0;
  let replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
  for (const pod of pods) {
    replicas++;
    if (isTerminating(pod)) continue;
    if (isRunningAndReady(pod)) ready++;
    if (isRunningAndReady(pod) && isPodAvailable(pod, minReady, nowMs)) available++;
    if (revisionOf(pod) === revisions.current) current++;
    if (revisionOf(pod) === revisions.update) updated++;
  }
  const status: NonNullable<StatefulSet['status']> = {
    observedGeneration: sts.metadata.generation ?? 1, replicas, readyReplicas: ready, currentReplicas: current, updatedReplicas: updated,
    availableReplicas: available, currentRevision: revisions.current, updateRevision: revisions.update,
    collisionCount: sts.status?.collisionCount ?? 0,
  };
  // a finished rolling update: the update revision becomes the current one
  if ((sts.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && updated === replicas && ready === replicas) {
    status.currentReplicas = updated;
    status.currentRevision = revisions.update;
  }
  return status;
}
