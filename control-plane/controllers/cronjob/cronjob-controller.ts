// The CronJob controller: starts a Job per scheduled time (on the injected clock), under the
// concurrency policy, keeps status.active/lastScheduleTime/lastSuccessfulTime, and prunes finished
// Jobs beyond the history limits.
import { rfc3339 } from '../../../api/clock.js';
import { AlreadyExistsError, NotFoundError } from '../../../api/errors.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { controlledBy, ownedOrMatching } from '../../reconcile/owned-objects.js';
import { inBatches } from '../batches.js';
import { controllerRefOf, newControllerRef, objectKeyOf, splitKey } from '../controller-ref.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';
import type { CronJob, Job } from '../workload-kinds.js';
import { jobNameFor, jobRefOf, planCronJob, SCHEDULED_TIMESTAMP } from './cron-plan.js';

const ignoreNotFound = (e: Error) => { if (!(e instanceof NotFoundError)) throw e; };

export class CronJobController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'cronjob-controller');
  }

  start(): void {
    this.watchOwn(resourceTypes.cronjobs);
    this.owns(resourceTypes.jobs, 'CronJob');
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    const { namespace, name } = splitKey(key);
    const cj = await resources.get<CronJob>(resourceTypes.cronjobs, namespace, name).catch((e: Error) => {
      ignoreNotFound(e);
      return undefined;
    });
    if (!cj) return;
    const owned = controlledBy(await this.cache<Job>(resourceTypes.jobs), cj.metadata.uid);
    const plan = planCronJob(cj, owned, clock.now());
    for (const e of plan.events) this.recordEvent(cj, e.type, e.reason, e.message);
    const deleteJob = async (job: Job) => {
      await resources.delete(resourceTypes.jobs, namespace, job.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid! } }).catch(ignoreNotFound);
      this.recordEvent(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    };
    const errors = await inBatches(plan.prune, 4, deleteJob);
    errors.push(...await inBatches(plan.replace, 4, deleteJob));
    const status = plan.status;
    const replaced = new Set(plan.replace.map((j) => j.metadata.uid));
    const active = (status.active ?? []).filter((r) => !replaced.has(r.uid));
    if (plan.startMs !== undefined && errors.length === 0) {
      const job = await this.#startJob(cj, plan.startMs);
      if (job) active.push(jobRefOf(job));
      status.lastScheduleTime = rfc3339(plan.startMs);
    }
    if (active.length) status.active = active;
    else delete status.active;
    if (stableStringify(status) !== stableStringify(cj.status ?? {})) {
      await resources.mutate<CronJob>(resourceTypes.cronjobs, namespace, name, (c) => ({ ...c, status }), { subresource: 'status' }).catch(ignoreNotFound);
    }
    if (errors.length) throw errors[0];
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  async #startJob(cj: CronJob, scheduledMs: number): Promise<Job | undefined> {
    const template = structuredClone(cj.spec.jobTemplate);
    const job: Job = {
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: {
        name: jobNameFor(cj, scheduledMs), namespace: cj.metadata.namespace!,
        ...(template.metadata?.labels ? { labels: template.metadata.labels } : {}),
        annotations: { ...template.metadata?.annotations, [SCHEDULED_TIMESTAMP]: rfc3339(scheduledMs) },
        ownerReferences: [newControllerRef(cj)],
      },
      spec: template.spec,
    };
    try {
      const created = await this.ctx.resources.create<Job>(resourceTypes.jobs, job);
      this.recordEvent(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
      return created;
    } catch (e) {
      if (e instanceof AlreadyExistsError) return undefined;
      this.recordEvent(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
      throw e;
    }
  }
}
