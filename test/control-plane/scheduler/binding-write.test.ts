import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../api/types/meta.js';
import type { Pod } from '../../../api/types/pod.js';
import { POD_IP_ANNOTATION } from '../../../api/pod-addresses.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { Scheduler } from '../../../control-plane/scheduler/scheduler.js';
import { aNode } from '../../support/builders.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const { pods, nodes } = resourceTypes;

describe('binding a pod', () => {
  let t: TestResources;
  let scheduler: Scheduler;
  beforeEach(async () => {
    t = await openTestResources();
    scheduler = new Scheduler({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger });
    scheduler.start();
  });
  afterEach(async () => {
    scheduler.stop();
    await t.close();
  });

  it('writes spec.nodeName, the pod address and PodScheduled=True in one write', async () => {
    const writes: Pod[] = [];
    t.resources.onWrite((type, kind, obj: KubeObject) => {
      if (type === pods && kind === 'put' && obj.metadata.name === 'web') writes.push(structuredClone(obj) as Pod);
    });
    await t.resources.create(nodes, aNode('n1'));
    await t.resources.create(pods, aPod('web'));
    for (let i = 0; i < 500 && !writes.some((w) => w.spec.nodeName); i++) {
      await scheduler.idle();
      await new Promise((r) => setImmediate(r));
    }
    await scheduler.idle();
    // the create, then the binding: nothing else
    expect(writes.map((w) => w.spec.nodeName ?? null)).toEqual([null, 'n1']);
    const bound = writes[1]!;
    expect(bound.metadata.annotations?.[POD_IP_ANNOTATION]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' });
    const stored = await t.resources.get<Pod>(pods, 'default', 'web');
    expect(stored.metadata.resourceVersion).toBe(bound.metadata.resourceVersion);
  });
});
