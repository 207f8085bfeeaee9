import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { formatIndexes, parseIndexes, planJob } from '../../../control-plane/controllers/job/job-plan.js';
import type { Job } from '../../../control-plane/controllers/workload-kinds.js';
import { aManagedPod, T0 } from './workload-builders.js';

function aJob(spec: Partial<Job['spec']> = {}, status: Job['status'] = {}): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default', uid: 'uid-pi' },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'pi' }], restartPolicy: 'Never' } }, ...spec }, status,
  };
}
const jobPod = (name: string, phase: Pod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never, index?: number, finishedMs = T0): Pod => {
  const p = aManagedPod(name, { node: 'n', phase });
  p.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'uid-pi', controller: true }];
  if (index !== undefined) p.metadata.annotations = { 'batch.kubernetes.io/job-completion-index': String(index) };
  if (phase === 'Failed') p.status!.containerStatuses = [{ name: 'c', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode: 1, finishedAt: new Date(finishedMs).toISOString() } } }];
  return p;
};

describe('planJob', () => {
  it('runs parallelism pods until completions succeed, then completes', () => {
    const job = aJob({ parallelism: 2, completions: 5 });
    expect(planJob(job, [], T0).create).toHaveLength(2);
    const some = [jobPod('a', 'Succeeded'), jobPod('b', 'Succeeded'), jobPod('c', 'Succeeded'), jobPod('d', 'Running')];
    expect(planJob(job, some, T0).create).toHaveLength(1);
    const done = planJob(job, [...some.slice(0, 3), jobPod('d', 'Succeeded'), jobPod('e', 'Succeeded')], T0);
    expect(done.outcome).toEqual({ type: 'Complete' });
  });

  it('backs off exponentially after failures and fails past backoffLimit', () => {
    const job = aJob({ completions: 1, backoffLimit: 1 });
    const once = planJob(job, [jobPod('a', 'Failed', undefined, T0)], T0 + 1000);
    expect(once.create).toHaveLength(0);
    expect(once.requeueAfterMs).toBe(9000);
    expect(planJob(job, [jobPod('a', 'Failed', undefined, T0)], T0 + 10_000).create).toHaveLength(1);
    const twice = planJob(job, [jobPod('a', 'Failed'), jobPod('b', 'Failed')], T0 + 60_000);
    expect(twice.outcome).toMatchObject({ type: 'Failed', reason: 'BackoffLimitExceeded' });
  });

  it('fails a job active longer than activeDeadlineSeconds and stops its pods', () => {
    const job = aJob({ activeDeadlineSeconds: 5 }, { startTime: new Date(T0).toISOString() });
    const plan = planJob(job, [jobPod('a', 'Running')], T0 + 6000);
    expect(plan.outcome).toMatchObject({ type: 'Failed', reason: 'DeadlineExceeded' });
    expect(plan.delete).toHaveLength(1);
  });

  it('starts the lowest missing completion indexes in Indexed mode', () => {
    const job = aJob({ completionMode: 'Indexed', completions: 4, parallelism: 2 });
    const plan = planJob(job, [jobPod('a', 'Succeeded', 0), jobPod('b', 'Running', 1)], T0);
    expect(plan.create).toEqual([2]);
    expect(plan.completedIndexes).toEqual([0]);
    expect(formatIndexes([0, 1, 2, 5, 7, 8])).toBe('0-2,5,7-8');
    expect(parseIndexes('0-2,5')).toEqual([0, 1, 2, 5]);
  });

  it('completes a work-queue job once a pod succeeded and none is active, starting no new pods meanwhile', () => {
    const job = aJob({ parallelism: 3 });
    expect(planJob(job, [jobPod('a', 'Succeeded'), jobPod('b', 'Running')], T0).create).toHaveLength(0);
    expect(planJob(job, [jobPod('a', 'Succeeded'), jobPod('b', 'Succeeded')], T0).outcome).toEqual({ type: 'Complete' });
  });

  it('stops pods of a suspended job and deletes a finished job after its TTL', () => {
    expect(planJob(aJob({ suspend: true }), [jobPod('a', 'Running')], T0).delete).toHaveLength(1);
    const finished = aJob({ ttlSecondsAfterFinished: 10 }, { completionTime: new Date(T0).toISOString(), conditions: [{ type: 'Complete', status: 'True' }] });
    expect(planJob(finished, [], T0 + 5000)).toMatchObject({ expired: false, requeueAfterMs: 5000 });
    expect(planJob(finished, [], T0 + 10_000).expired).toBe(true);
  });
});
