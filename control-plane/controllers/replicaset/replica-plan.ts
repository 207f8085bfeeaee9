// Pure ReplicaSet planning: which pods it owns, adopts and releases, how many to create, which to
// delete (unscheduled, then not ready, then newest first), and the status it should report.
import type { Condition } from '../../../api/types/meta.js';
import type { Pod } from '../../../api/types/pod.js';
import { rfc3339 } from '../../../api/clock.js';
import { controllerRefOf } from '../controller-ref.js';
import { isPodActive, isPodReady, podReadySinceMs } from '../pod-readiness.js';
import { matchesSelector } from '../selector-match.js';
import type { ReplicaSet } from '../workload-kinds.js';

/** Kubernetes creates at most this many pods per sync (slow start keeps failures cheap). */
export const BURST_REPLICAS = 500;

export interface ReplicaPlan {
  adopt: Pod[];
  release: Pod[];
  create: number;
  delete: Pod[];
  /** Active pods it owns after adoption and release. */
  active: Pod[];
}

export function planReplicaSet(rs: ReplicaSet, podsInNamespace: readonly Pod[]): ReplicaPlan {
  const uid = rs.metadata.uid;
  const adopt: Pod[] = [];
  const release: Pod[] = [];
  const active: Pod[] = [];
  const deleting = Boolean(rs.metadata.deletionTimestamp);
  for (const pod of podsInNamespace) {
    const ref = controllerRefOf(pod);
    const matches = matchesSelector(rs.spec.selector, pod.metadata.labels);
    if (ref?.uid === uid) {
      if (matches) {
        if (isPodActive(pod)) active.push(pod);
      } else if (!pod.metadata.deletionTimestamp) release.push(pod);
    } else if (!ref && matches && !deleting && isPodActive(pod)) {
      adopt.push(pod);
      active.push(pod);
    }
  }
  if (deleting) return { adopt, release, create: 0, delete: [], active };
  const want = rs.spec.replicas ?? 1;
  const diff = want - active.length;
  if (diff >= 0) return { adopt, release, create: Math.min(diff, BURST_REPLICAS), delete: [], active };
  return { adopt, release, create: 0, delete: podsToDelete(active, -diff), active };
}

/**
 * Orders pods for deletion as Kubernetes' ActivePods does (deletionOrder), and takes the first
 * `count`. The order's keys are read once per pod, not per comparison: a scale-down of a
 * 100,000-pod ReplicaSet compares each pod ~17 times, each comparison parsing two timestamps.
 */
export function podsToDelete(pods: readonly Pod[], count: number): Pod[] {
  const keyed = pods.map((pod) => ({ pod, key: deletionKey(pod) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key) || (a.pod.metadata.name ?? '').localeCompare(b.pod.metadata.name ?? ''));
  return keyed.slice(0, Math.min(count, BURST_REPLICAS)).map((k) => k.pod);
}

/** deletionOrder's keys, each ascending: unassigned, phase, not ready, more recently ready, more restarts, newer. */
const deletionKey = (pod: Pod): number[] => [
  Number(Boolean(pod.spec.nodeName)), phaseRank(pod), Number(isPodReady(pod)), -(podReadySinceMs(pod) ?? 0), -restarts(pod), -createdMs(pod),
];

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

const phaseRank = (pod: Pod): number => ({ Pending: 0, Unknown: 1, Running: 2 } as Record<string, number>)[pod.status?.phase ?? 'Pending'] ?? 0;
const restarts = (pod: Pod): number => (pod.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0);
const createdMs = (pod: Pod): number => Date.parse(pod.metadata.creationTimestamp ?? '') || 0;

export function deletionOrder(a: Pod, b: Pod): number {
  const assigned = Number(Boolean(a.spec.nodeName)) - Number(Boolean(b.spec.nodeName));
  if (assigned) return assigned;
  const phase = phaseRank(a) - phaseRank(b);
  if (phase) return phase;
  const ready = Number(isPodReady(a)) - Number(isPodReady(b));
  if (ready) return ready;
  const readySince = (podReadySinceMs(b) ?? 0) - (podReadySinceMs(a) ?? 0); // more recently ready first
  if (readySince) return readySince;
  const restart = restarts(b) - restarts(a);
  if (restart) return restart;
  const age = createdMs(b) - createdMs(a); // newest first
  if (age) return age;
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

export interface ReplicaSetStatusPlan {
  status: NonNullable<ReplicaSet['status']>;
  /** When a Ready pod turns available (minReadySeconds), reconcile again then. */
  requeueAfterMs?: number;
}

/** What a ReplicaSet's status counts: its active pods, and of them the fully labeled, Ready and available ones. */
export interface ReplicaCountsNow {
  replicas: number;
  fullyLabeled: number;
  ready: number;
  available: number;
  /** ms until the next Ready pod turns available (minReadySeconds), if one is waiting. */
  nextAvailableInMs?: number;
}

/** The status counts by a walk over the active pods (replica-counts.ts keeps the same per pod change). */
export function countReplicas(rs: ReplicaSet, active: readonly Pod[], nowMs: number): ReplicaCountsNow {
  const minReady = rs.spec.minReadySeconds ?? 0;
  const templateLabels = Object.entries(rs.spec.template.metadata?.labels ?? {});
  let nextAvailableInMs: number | undefined;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of active) {
    const labels = p.metadata.labels;
    if (templateLabels.every(([k, v]) => labels?.[k] === v)) fullyLabeled++;
    const since = podReadySinceMs(p);
    if (since === undefined) continue;
    ready++;
    const availableAt = since + minReady * 1000;
    if (minReady <= 0 || availableAt <= nowMs) available++;
    else nextAvailableInMs = Math.min(nextAvailableInMs ?? availableAt - nowMs, availableAt - nowMs);
  }
  return { replicas: active.length, fullyLabeled, ready, available, ...(nextAvailableInMs !== undefined ? { nextAvailableInMs } : {}) };
}

export function planReplicaSetStatus(rs: ReplicaSet, active: readonly Pod[], nowMs: number, failure?: string): ReplicaSetStatusPlan {
  return replicaSetStatus(rs, countReplicas(rs, active, nowMs), nowMs, failure);
}

/** The status a ReplicaSet reports for its counts (and a create failure, as the ReplicaFailure condition). */
export function replicaSetStatus(rs: ReplicaSet, counts: ReplicaCountsNow, nowMs: number, failure?: string): ReplicaSetStatusPlan {
  const conditions: Condition[] = (rs.status?.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
  if (failure) conditions.push({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure, lastTransitionTime: rfc3339(nowMs) });
  return {
    status: {
      replicas: counts.replicas,
      fullyLabeledReplicas: counts.fullyLabeled,
      readyReplicas: counts.ready,
      availableReplicas: counts.available,
      observedGeneration: rs.metadata.generation ?? 1,
      ...(conditions.length ? { conditions } : {}),
    },
    ...(counts.nextAvailableInMs !== undefined ? { requeueAfterMs: counts.nextAvailableInMs } : {}),
  };
}
