// Job, StatefulSet and DaemonSet report what reading and planning their pods cost (clock ms), so
// their owner sync stretches with it as the ReplicaSet's does (decision 066, work-queue.ts).
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DaemonSetController } from '../../../control-plane/controllers/daemonset/daemonset-controller.js';
import { JobController } from '../../../control-plane/controllers/job/job-controller.js';
import { StatefulSetController } from '../../../control-plane/controllers/statefulset/statefulset-controller.js';
import type { DaemonSet, Job, StatefulSet } from '../../../control-plane/controllers/workload-kinds.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import type { ControllerContext } from '../../../control-plane/reconcile/controller.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { steppingClock } from '../../support/fake-clock.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';
import { aTemplate } from './workload-builders.js';

const logger = pino({ level: 'silent' });

describe('workload controllers report the cost of reading their pods', () => {
  let t: TestResources;
  let ctx: ControllerContext;
  beforeEach(async () => {
    t = await openTestResources();
    // every read of the controller's clock moves it 7 ms: a span read twice costs 7
    ctx = { resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: steppingClock(t.clock, 7), logger };
  });
  afterEach(async () => { await t.close(); });

  it('Job: one measured span around reading and planning its pods', async () => {
    await t.resources.create(resourceTypes.jobs, {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'work', namespace: 'default' },
      spec: { parallelism: 3, completions: 3, template: { metadata: { labels: { app: 'work' } }, spec: { containers: [{ name: 'main', image: 'x' }], restartPolicy: 'Never' } } },
    } as Job);
    const c = new JobController(ctx);
    expect(await c.reconcile('default/work')).toEqual({ costMs: 7 });
    expect(await c.reconcile('default/work')).toEqual({ costMs: 7 });
    c.stop();
  });

  it('StatefulSet: two measured spans (reading its pods, planning them)', async () => {
    await t.resources.create(resourceTypes.statefulsets, {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' },
      spec: { replicas: 2, serviceName: 'db', selector: { matchLabels: { app: 'web' } }, template: aTemplate() },
    } as StatefulSet);
    const c = new StatefulSetController(ctx);
    expect(await c.reconcile('default/db')).toEqual({ costMs: 14 });
    c.stop();
  });

  it('DaemonSet: one measured span around reading the nodes and its pods and planning', async () => {
    for (const n of ['n1', 'n2']) await t.resources.create(resourceTypes.nodes, aNode(n));
    await t.resources.create(resourceTypes.daemonsets, {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: aTemplate() },
    } as DaemonSet);
    const c = new DaemonSetController(ctx);
    expect(await c.reconcile('default/agent')).toEqual({ costMs: 7 });
    c.stop();
  });
});
