// Controllers create in slow-start batches (1, 2, 4, ...) and stop at the first batch with an error,
// write at most a bounded number of pods per sync, and give the event loop back while they write.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { inBatches, MAX_DAEMON_POD_WRITES_PER_SYNC, MAX_JOB_POD_WRITES_PER_SYNC, slowStartBatch } from '../../../control-plane/controllers/batches.js';
import type { ControllerContext } from '../../../control-plane/reconcile/controller.js';
import { DaemonSetController } from '../../../control-plane/controllers/daemonset/daemonset-controller.js';
import { JobController } from '../../../control-plane/controllers/job/job-controller.js';
import { BURST_REPLICAS } from '../../../control-plane/controllers/replicaset/replica-plan.js';
import { ReplicaSetController } from '../../../control-plane/controllers/replicaset/replicaset-controller.js';
import type { DaemonSet, Job, ReplicaSet } from '../../../control-plane/controllers/workload-kinds.js';
import type { EventInput, EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { WorkQueue } from '../../../control-plane/reconcile/work-queue.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { FakeClock } from '../../support/fake-clock.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';
import { aTemplate } from './workload-builders.js';

const logger = pino({ level: 'silent' });

/** Blocks the thread for `ms`, as a synchronous store write or a big decode does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* spin */ }
}

describe('slowStartBatch', () => {
  it('runs batches of 1, 2, 4, ... and stops after the batch where a call failed', async () => {
    const started: number[] = [];
    const result = await slowStartBatch(Array.from({ length: 100 }, (_, i) => i), async (i) => {
      started.push(i);
      if (i === 5) throw new Error('quota exceeded');
    });
    // batches [0], [1,2], [3,4,5,6]: the whole batch with the failure runs, nothing after it
    expect(started.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(result).toEqual({ succeeded: 6, error: new Error('quota exceeded'), skipped: 93 });
  });

  it('starts a batch only when the one before has finished', async () => {
    let running = 0;
    const batchPeaks: number[] = [];
    const result = await slowStartBatch(Array.from({ length: 31 }, (_, i) => i), async () => {
      running++;
      batchPeaks.push(running);
      await new Promise((r) => setImmediate(r));
      running--;
    }, 64);
    expect(result).toEqual({ succeeded: 31, skipped: 0 });
    expect(Math.max(...batchPeaks)).toBe(16); // 1 + 2 + 4 + 8 + 16 = 31
    expect(batchPeaks.slice(0, 3)).toEqual([1, 1, 2]);
  });

  it('a first call that fails costs one call', async () => {
    let calls = 0;
    const result = await slowStartBatch(Array.from({ length: 10_000 }), async () => { calls++; throw new Error('bad template'); });
    expect(calls).toBe(1);
    expect(result.skipped).toBe(9_999);
  });
});

describe('bulk work gives the event loop back', () => {
  it('inBatches lets I/O and timers run between writes that never leave the microtask queue', async () => {
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    let done = 0;
    // 200 writes of 2 ms each: 400 ms of work; without yielding no timer could fire before the end
    await inBatches(Array.from({ length: 200 }), 4, async () => { busy(2); done++; });
    clearInterval(tick);
    expect(done).toBe(200);
    expect(turns).toBeGreaterThan(5);
  });

  it('the WorkQueue starts no reconcile while the current turn of the event loop is over its budget', async () => {
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    const q = new WorkQueue({ name: 't', clock: new FakeClock(), logger, workers: 2, reconcile: async () => busy(2) });
    for (let i = 0; i < 200; i++) q.add(`k${i}`);
    await q.idle();
    clearInterval(tick);
    expect(turns).toBeGreaterThan(5);
  });
});

describe('controllers create in slow-start batches', () => {
  let t: TestResources;
  let events: EventInput[];
  let podCreates: number;
  let failFromCreate: number;
  let ctx: ControllerContext;
  beforeEach(async () => {
    t = await openTestResources();
    events = [];
    podCreates = 0;
    failFromCreate = Infinity;
    const create = t.resources.create.bind(t.resources);
    t.resources.create = (async (type, obj, opts) => {
      if (type === resourceTypes.pods && ++podCreates >= failFromCreate) throw new Error('exceeded quota: pods');
      return create(type, obj, opts);
    }) as typeof t.resources.create;
    ctx = { resources: t.resources, clock: t.clock, logger, events: { record: (e: EventInput) => events.push(e) } as unknown as EventRecorder };
  });
  afterEach(async () => { await t.close(); });

  const podCount = async () => (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default' })).items.length;
  const replicaSet = (replicas: number): ReplicaSet => ({
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: aTemplate() },
  });
  const job = (parallelism: number): Job => ({
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'work', namespace: 'default' },
    spec: { parallelism, completions: parallelism, template: { metadata: { labels: { app: 'work' } }, spec: { containers: [{ name: 'main', image: 'x' }], restartPolicy: 'Never' } } },
  } as Job);
  const daemonSet = (): DaemonSet => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: aTemplate() } });

  it('ReplicaSet: a create that fails ends the sync after its batch, with FailedCreate and ReplicaFailure', async () => {
    failFromCreate = 5;
    await t.resources.create(resourceTypes.replicasets, replicaSet(100));
    const result = await new ReplicaSetController(ctx).reconcile('default/web');
    expect(podCreates).toBe(7); // batches of 1, 2 and 4; the fifth call and those after it failed
    expect(await podCount()).toBe(4);
    expect(result).toMatchObject({ requeueAfterMs: 5_000 });
    expect(events.filter((e) => e.reason === 'FailedCreate').map((e) => e.message)).toEqual(['Error creating: exceeded quota: pods']);
    const rs = await t.resources.get<ReplicaSet>(resourceTypes.replicasets, 'default', 'web');
    expect(rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure')).toMatchObject({ status: 'True', reason: 'FailedCreate' });
  });

  it('ReplicaSet: one sync creates at most BURST_REPLICAS pods', async () => {
    await t.resources.create(resourceTypes.replicasets, replicaSet(BURST_REPLICAS * 2 + 10));
    await new ReplicaSetController(ctx).reconcile('default/web');
    expect(await podCount()).toBe(BURST_REPLICAS);
  });

  it('Job: a first create that fails costs one call, and a sync creates at most MAX_JOB_POD_WRITES_PER_SYNC', async () => {
    failFromCreate = 1;
    await t.resources.create(resourceTypes.jobs, job(2_000));
    const controller = new JobController(ctx);
    await expect(controller.reconcile('default/work')).rejects.toThrow('exceeded quota: pods');
    expect(podCreates).toBe(1);
    expect(events.map((e) => e.reason)).toEqual(['FailedCreate']);

    failFromCreate = Infinity;
    await controller.reconcile('default/work');
    expect(await podCount()).toBe(MAX_JOB_POD_WRITES_PER_SYNC);
    expect((await t.resources.get<Job>(resourceTypes.jobs, 'default', 'work')).status?.active).toBe(MAX_JOB_POD_WRITES_PER_SYNC);
  });

  it('DaemonSet: a first create that fails costs one call, and a sync creates at most MAX_DAEMON_POD_WRITES_PER_SYNC', async () => {
    for (let i = 0; i < MAX_DAEMON_POD_WRITES_PER_SYNC + 20; i++) await t.resources.create(resourceTypes.nodes, aNode(`n${i}`));
    await t.resources.create(resourceTypes.daemonsets, daemonSet());
    failFromCreate = 1;
    const controller = new DaemonSetController(ctx);
    await expect(controller.reconcile('default/agent')).rejects.toThrow('exceeded quota: pods');
    expect(podCreates).toBe(1);
    expect(events.filter((e) => e.reason === 'FailedCreate')).toHaveLength(1);

    failFromCreate = Infinity;
    await controller.reconcile('default/agent');
    expect(await podCount()).toBe(MAX_DAEMON_POD_WRITES_PER_SYNC);
  });
});
