// Pure CronJob planning, after Kubernetes' cronjob_controllerv2 syncCronJob: which of its Jobs are
// active, which finished ones history no longer keeps, whether the most recent scheduled time (since
// the last one, within startingDeadlineSeconds) starts a Job under the concurrency policy, and when
// to look again.
import { rfc3339 } from '../../../api/clock.js';
import type { ObjectReference } from '../../../api/types/node.js';
import { parseSchedule, scheduledTimesBetween } from '../../resources/cron-schedule.js';
import type { CronJob, Job } from '../workload-kinds.js';

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

export interface CronPlan {
  status: NonNullable<CronJob['status']>;
  /** Finished Jobs beyond the history limits, oldest first. */
  prune: Job[];
  /** Active Jobs the Replace policy removes before the new one starts. */
  replace: Job[];
  /** The scheduled time (ms) of the Job to create. */
  startMs?: number;
  events: CronEvent[];
  /** When the next scheduled time falls (the controller looks again then). */
  requeueAfterMs?: number;
}

const condition = (job: Job, type: string) => job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
export const isFinished = (job: Job) => condition(job, 'Complete') || condition(job, 'Failed');
const parseMs = (t: string | null | undefined) => (t ? Date.parse(t) : NaN);

/** The Job a CronJob starts for `scheduledMs`: `<name>-<minutes since the epoch>`. */
export const jobNameFor = (cj: CronJob, scheduledMs: number): string => `${cj.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;

/** status.active entries (without resourceVersion, so a Job's progress does not rewrite its CronJob). */
export const jobRefOf = (job: Job): ObjectReference => ({
  apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name!, namespace: job.metadata.namespace!, uid: job.metadata.uid!,
});

export function planCronJob(cj: CronJob, owned: readonly Job[], nowMs: number): CronPlan {
  const active = owned.filter((j) => !isFinished(j) && !j.metadata.deletionTimestamp)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const status: NonNullable<CronJob['status']> = {};
  if (active.length) status.active = active.map(jobRefOf);
  if (cj.status?.lastScheduleTime) status.lastScheduleTime = cj.status.lastScheduleTime;
  const succeeded = owned.filter((j) => condition(j, 'Complete'));
  const lastSuccess = Math.max(parseMs(cj.status?.lastSuccessfulTime) || 0, ...succeeded.map((j) => parseMs(j.status?.completionTime) || 0));
  if (lastSuccess > 0) status.lastSuccessfulTime = rfc3339(lastSuccess);
  const plan: CronPlan = { status, prune: [], replace: [], events: [] };

  const finishedAt = (j: Job) => parseMs(j.status?.completionTime) || parseMs(j.status?.startTime) || parseMs(j.metadata.creationTimestamp) || 0;
  const keep = (jobs: Job[], limit: number) => jobs.filter((j) => !j.metadata.deletionTimestamp).sort((a, b) => finishedAt(a) - finishedAt(b))
    .slice(0, Math.max(0, jobs.length - limit));
  plan.prune.push(...keep(succeeded, cj.spec.successfulJobsHistoryLimit ?? 3));
  plan.prune.push(...keep(owned.filter((j) => condition(j, 'Failed')), cj.spec.failedJobsHistoryLimit ?? 1));

  if (cj.metadata.deletionTimestamp || cj.spec.suspend) return plan;
  const schedule = parseSchedule(cj.spec.schedule, cj.spec.timeZone ?? 'UTC');
  if (typeof schedule === 'string') {
    plan.events.push({ type: 'Warning', reason: 'UnparseableSchedule', message: `unparseable schedule: ${JSON.stringify(cj.spec.schedule)} : ${schedule}` });
    return plan;
  }
  const deadlineMs = cj.spec.startingDeadlineSeconds !== undefined ? cj.spec.startingDeadlineSeconds * 1000 : undefined;
  let earliest = parseMs(cj.status?.lastScheduleTime) || parseMs(cj.metadata.creationTimestamp) || nowMs;
  if (deadlineMs !== undefined) earliest = Math.max(earliest, nowMs - deadlineMs);
  const window = scheduledTimesBetween(schedule, earliest, nowMs);
  plan.requeueAfterMs = Math.max(1, schedule.next(nowMs) - nowMs);
  if (window.count > 100) {
    plan.events.push({ type: 'Warning', reason: 'TooManyMissedTimes', message: 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew' });
  }
  const scheduled = window.mostRecentMs;
  if (scheduled === undefined) return plan;
  if (deadlineMs !== undefined && scheduled + deadlineMs < nowMs) {
    plan.events.push({ type: 'Warning', reason: 'MissSchedule', message: `Missed scheduled time to start a job: ${rfc3339(scheduled)}` });
    return plan;
  }
  if (owned.some((j) => j.metadata.name === jobNameFor(cj, scheduled))) return plan; // started already
  const policy = cj.spec.concurrencyPolicy ?? 'Allow';
  if (policy === 'Forbid' && active.length) return plan; // tried again once the active Job finishes
  if (policy === 'Replace') plan.replace.push(...active);
  plan.startMs = scheduled;
  return plan;
}
