// The Job controller: runs pods of the template until completions succeed (or the work queue
// drains), within parallelism, with back-off after failures; marks the Job Complete or Failed
// (what `kubectl wait --for=condition=complete` watches), and deletes it after its TTL.
import { rfc3339 } from '../../../api/clock.js';
import { NotFoundError } from '../../../api/errors.js';
import type { Condition } from '../../../api/types/meta.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { inBatches, MAX_JOB_POD_WRITES_PER_SYNC, slowStartBatch } from '../batches.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { controlledBy, ownedOrMatching } from '../../reconcile/owned-objects.js';
import { controllerRefOf, objectKeyOf, splitKey } from '../controller-ref.js';
import { podFromTemplate } from '../pod-template.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';
import type { Job } from '../workload-kinds.js';
import { COMPLETION_INDEX, formatIndexes, planJob, type JobPlan } from './job-plan.js';

export class JobController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'job-controller');
  }

  start(): void {
    this.watchOwn(resourceTypes.jobs);
    this.owns(resourceTypes.pods, 'Job');
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    const job = await resources.get<Job>(resourceTypes.jobs, namespace, name).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!job || job.metadata.deletionTimestamp) return;
    const now = clock.now();
    const pods = controlledBy(await this.cache<Pod>(resourceTypes.pods), job.metadata.uid);
    const plan = planJob(job, pods, now);
    // what reading and planning its pods cost: the owner sync of a large Job stretches with it (work-queue.ts)
    const costMs = clock.now() - now;
    if (plan.expired) {
      await resources.delete(resourceTypes.jobs, namespace, name, { preconditions: { uid: job.metadata.uid! } }).catch((e: Error) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
      return;
    }
    // at most MAX_JOB_POD_WRITES_PER_SYNC of each per sync; the pods' events bring the Job back for the rest
    const deletes = plan.delete.slice(0, MAX_JOB_POD_WRITES_PER_SYNC);
    const deleteErrors = await inBatches(deletes, 8, (pod) => resources.delete(resourceTypes.pods, namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } })
      .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; }));
    const created = await slowStartBatch(plan.create.slice(0, MAX_JOB_POD_WRITES_PER_SYNC), async (index) => {
      const pod = await resources.create<Pod>(resourceTypes.pods, jobPod(job, index));
      this.recordEvent(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    }, 8);
    if (created.error) this.recordEvent(job, 'Warning', 'FailedCreate', `Error creating: ${created.error.message}`);
    const errors = [...deleteErrors, ...(created.error ? [created.error] : [])];
    const status = jobStatus(job, plan, plan.active.length + created.succeeded - (deletes.length - deleteErrors.length), now);
    if (stableStringify(status) !== stableStringify(job.status ?? {})) {
      await resources.mutate<Job>(resourceTypes.jobs, namespace, name, (j) => ({ ...j, status }), { subresource: 'status' });
      if (plan.outcome?.type === 'Complete') this.recordEvent(job, 'Normal', 'Completed', 'Job completed');
      if (plan.outcome?.type === 'Failed') this.recordEvent(job, 'Warning', plan.outcome.reason, plan.outcome.message);
    }
    if (errors.length) throw errors[0];
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs, costMs } : { costMs };
  }
}

function jobPod(job: Job, index: number | null): Pod {
  const name = job.metadata.name!;
  const uid = job.metadata.uid!;
  const labels: Record<string, string> = {
    'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name,
    ...(index !== null ? { [COMPLETION_INDEX]: String(index) } : {}),
  };
  const pod = podFromTemplate(job, job.spec.template, { generateName: index !== null ? `${name}-${index}-` : `${name}-`, labels });
  if (index !== null) {
    pod.metadata.annotations = { ...pod.metadata.annotations, [COMPLETION_INDEX]: String(index) };
    pod.spec['hostname'] ??= `${name}-${index}`;
    for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
      c.env = [...(c.env ?? []).filter((e) => e.name !== 'JOB_COMPLETION_INDEX'), { name: 'JOB_COMPLETION_INDEX', value: String(index) }];
    }
  }
  return pod;
}

function jobStatus(job: Job, plan: JobPlan, active: number, nowMs: number): NonNullable<Job['status']> {
  const now = rfc3339(nowMs);
  const previous = job.status ?? {};
  let conditions: Condition[] = [...(previous.conditions ?? [])];
  const set = (type: string, status: Condition['status'], reason: string, message: string) => {
    const old = conditions.find((c) => c.type === type);
    if (old && old.status === status && old.reason === reason) return;
    conditions = conditions.filter((c) => c.type !== type);
    conditions.push({ type, status, reason, message, lastProbeTime: now, lastTransitionTime: now });
  };
  const suspended = Boolean(job.spec.suspend) && !plan.outcome && !conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  if (suspended) set('Suspended', 'True', 'JobSuspended', 'Job suspended');
  else if (conditions.some((c) => c.type === 'Suspended' && c.status === 'True')) set('Suspended', 'False', 'JobResumed', 'Job resumed');
  if (plan.outcome?.type === 'Complete') {
    set('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods');
    set('Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods');
  } else if (plan.outcome?.type === 'Failed') {
    set('FailureTarget', 'True', plan.outcome.reason, plan.outcome.message);
    set('Failed', 'True', plan.outcome.reason, plan.outcome.message);
  }
  const status: NonNullable<Job['status']> = {
    ...(previous.startTime && !suspended ? { startTime: previous.startTime } : suspended ? {} : { startTime: now }),
    active: Math.max(0, plan.outcome ? 0 : active),
    succeeded: plan.succeeded,
    failed: plan.failed,
    ready: plan.ready,
    terminating: 0,
    uncountedTerminatedPods: {},
    ...(job.spec.completionMode === 'Indexed' ? { completedIndexes: formatIndexes(plan.completedIndexes) } : {}),
    ...(previous.completionTime ? { completionTime: previous.completionTime } : plan.outcome?.type === 'Complete' ? { completionTime: now } : {}),
    ...(conditions.length ? { conditions } : {}),
  };
  return status;
}
