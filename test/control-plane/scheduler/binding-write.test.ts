import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../api/types/meta.js';
import type { Pod } from '../../../api/types/pod.js';
import { POD_IP_ANNOTATION } from '../../../api/pod-addresses.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { startSchedulerHarness, type SchedulerHarness } from '../support/scheduler-harness.js';
import { aPod } from '../support/test-resources.js';

const { pods, nodes } = resourceTypes;

describe('binding a pod', () => {
  let h: SchedulerHarness;
  beforeEach(async () => {
    h = await startSchedulerHarness();
  });
  afterEach(() => h.stop());

  it('writes spec.nodeName, the pod address and PodScheduled=True in one write', async () => {
    const writes: Pod[] = [];
    h.t.resources.onWrite((type, kind, obj: KubeObject) => {
      if (type === pods && kind === 'put' && obj.metadata.name === 'web') writes.push(structuredClone(obj) as Pod);
    });
    await h.t.resources.create(nodes, aNode('n1'));
    await h.t.resources.create(pods, aPod('web'));
    await h.until('the binding written', async () => writes.some((w) => w.spec.nodeName));
    await h.scheduler.idle();
    // the create, then the binding: nothing else
    expect(writes.map((w) => w.spec.nodeName ?? null)).toEqual([null, 'n1']);
    const bound = writes[1]!;
    expect(bound.metadata.annotations?.[POD_IP_ANNOTATION]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' });
    const stored = await h.pod('web');
    expect(stored.metadata.resourceVersion).toBe(bound.metadata.resourceVersion);
  });
});
