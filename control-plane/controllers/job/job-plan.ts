// Pure Job planning: counts of active/succeeded/failed pods, how many pods to start (parallelism,
// completions, Indexed completion indexes, the work-queue pattern), exponential back-off after
// failures, and when the Job is Complete or Failed (backoffLimit, activeDeadlineSeconds), suspended
// or due for deletion (ttlSecondsAfterFinished).
import type { Pod } from '../../../api/types/pod.js';
import { controllerRefOf } from '../controller-ref.js';
import { isPodReady } from '../pod-readiness.js';
import type { Job } from '../workload-kinds.js';

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 6 * 60_000;

export type JobOutcome = { type: 'Complete' } | { type: 'Failed'; reason: 'BackoffLimitExceeded' | 'DeadlineExceeded'; message: string };

export interface JobPlan {
  active: Pod[];
  succeeded: number;
  failed: number;
  ready: number;
  completedIndexes: number[];
  /** Pods to start now: an index for Indexed jobs, else null. */
  create: Array<number | null>;
  /** Active pods to delete (too many, suspended, or the job finished). */
  delete: Pod[];
  outcome?: JobOutcome;
  /** Reconcile again then (back-off ends, deadline, TTL). */
  requeueAfterMs?: number;
  /** The job has finished and its TTL ran out. */
  expired: boolean;
}

const finishedCondition = (job: Job) => job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
const restarts = (pod: Pod) => (pod.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0);
const finishedAtMs = (pod: Pod) => Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => Date.parse(c.state.terminated?.finishedAt ?? '') || 0),
  Date.parse(pod.metadata.creationTimestamp ?? '') || 0);

export const indexOf = (pod: Pod): number | undefined => {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX] ?? pod.metadata.labels?.[COMPLETION_INDEX];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
};

export function planJob(job: Job, podsInNamespace: readonly Pod[], nowMs: number): JobPlan {
  const owned = podsInNamespace.filter((p) => controllerRefOf(p)?.uid === job.metadata.uid);
  const active = owned.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const succeededPods = owned.filter((p) => p.status?.phase === 'Succeeded');
  const failedPods = owned.filter((p) => p.status?.phase === 'Failed');
  const indexed = job.spec.completionMode === 'Indexed';
  const completions = job.spec.completions;
  const completedIndexes = indexed
    ? [...new Set([...parseIndexes(job.status?.completedIndexes), ...succeededPods.map(indexOf).filter((i): i is number => i !== undefined && i < (completions ?? 0))])].sort((a, b) => a - b)
    : [];
  // counts never go down: a finished pod may be deleted (by a user or GC) after it was counted
  const succeeded = indexed ? completedIndexes.length : Math.max(job.status?.succeeded ?? 0, succeededPods.length);
  const failed = Math.max(job.status?.failed ?? 0, failedPods.length);
  const plan: JobPlan = { active, succeeded, failed, ready: active.filter(isPodReady).length, completedIndexes, create: [], delete: [], expired: false };

  const finished = finishedCondition(job);
  if (finished) {
    plan.delete = active;
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (ttl !== undefined) {
      const at = (Date.parse(job.status?.completionTime ?? finished.lastTransitionTime ?? '') || nowMs) + ttl * 1000;
      if (at <= nowMs) plan.expired = true;
      else plan.requeueAfterMs = at - nowMs;
    }
    return plan;
  }
  if (job.spec.suspend) {
    plan.delete = active;
    return plan;
  }
  // failures: failed pods (restartPolicy Never) plus container restarts (OnFailure)
  const failures = failed + active.reduce((n, p) => n + restarts(p), 0);
  const backoffLimit = job.spec.backoffLimit ?? 6;
  if (failures > backoffLimit) {
    plan.outcome = { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    plan.delete = active;
    return plan;
  }
  const startMs = Date.parse(job.status?.startTime ?? '') || nowMs;
  if (job.spec.activeDeadlineSeconds !== undefined) {
    const deadline = startMs + job.spec.activeDeadlineSeconds * 1000;
    if (deadline <= nowMs) {
      plan.outcome = { type: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      plan.delete = active;
      return plan;
    }
    plan.requeueAfterMs = deadline - nowMs;
  }
  const parallelism = job.spec.parallelism ?? 1;
  if (completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0) {
    plan.outcome = { type: 'Complete' };
    plan.delete = active;
    return plan;
  }
  // how many should run now
  let wantActive: number;
  if (completions === undefined) wantActive = succeeded > 0 ? active.length : parallelism; // work queue: no new pods once one succeeded
  else wantActive = Math.min(parallelism, completions - succeeded);
  if (active.length > wantActive) {
    plan.delete = [...active].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b))).slice(0, active.length - wantActive);
    return plan;
  }
  let toCreate = wantActive - active.length;
  if (toCreate <= 0) return plan;
  // back-off after failures: 10 s doubling, up to 6 min, from the last failure
  if (failedPods.length > 0) {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failedPods.length - 1));
    const readyAt = Math.max(...failedPods.map(finishedAtMs)) + delay;
    if (readyAt > nowMs) {
      plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, readyAt - nowMs);
      return plan;
    }
  }
  if (indexed) {
    const taken = new Set([...completedIndexes, ...active.map(indexOf).filter((i): i is number => i !== undefined)]);
    for (let i = 0; i < (completions ?? 0) && toCreate > 0; i++) {
      if (taken.has(i)) continue;
      plan.create.push(i);
      toCreate--;
    }
  } else plan.create = Array.from({ length: toCreate }, () => null);
  return plan;
}

/** "1,3-5" -> [1,3,4,5] */
export function parseIndexes(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/** [1,3,4,5] -> "1,3-5" */
export function formatIndexes(indexes: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indexes.length; i++) {
    const start = indexes[i]!;
    while (i + 1 < indexes.length && indexes[i + 1] === indexes[i]! + 1) i++;
    parts.push(start === indexes[i] ? String(start) : `${start}-${indexes[i]}`);
  }
  return parts.join(',');
}
