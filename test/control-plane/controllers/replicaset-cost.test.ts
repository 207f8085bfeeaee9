import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rfc3339 } from '../../../api/clock.js';
import type { Pod } from '../../../api/types/pod.js';
import { ReplicaSetController } from '../../../control-plane/controllers/replicaset/replicaset-controller.js';
import type { ReplicaSet } from '../../../control-plane/controllers/workload-kinds.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';
import { steppingClock } from '../../support/fake-clock.js';

const logger = pino({ level: 'silent' });

const rs = (replicas: number): ReplicaSet => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default' },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'x.wasm' }] } } },
});

describe('ReplicaSetController reports what reading its pods cost', () => {
  let t: TestResources;
  beforeEach(async () => { t = await openTestResources(); });
  afterEach(async () => { await t.close(); });

  it('returns costMs measured on its clock around the plan and status (so the owner sync stretches with it)', async () => {
    const clock = steppingClock(t.clock, 7);
    const c = new ReplicaSetController({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock, logger });
    await t.resources.create(resourceTypes.replicasets, rs(3));
    const first = await c.reconcile('default/web');
    expect(first?.costMs).toBe(14); // two measured spans, one read of 7 ms each
    expect((await t.resources.list(resourceTypes.pods, { namespace: 'default' })).items).toHaveLength(3);
    const again = await c.reconcile('default/web');
    expect(again?.costMs).toBe(14);
    c.stop();
  });

  it('a reconcile that only updates status reads the kept counts: its pods are walked once, when first counted', async () => {
    const c = new ReplicaSetController({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger });
    await t.resources.create(resourceTypes.replicasets, rs(300));
    await c.reconcile('default/web');
    await c.reconcile('default/web'); // its own creates are counted already (read-your-writes): none more
    const pods = (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default' })).items;
    expect(pods).toHaveLength(300);
    for (const p of pods.slice(0, 120)) {
      await t.resources.mutate<Pod>(resourceTypes.pods, 'default', p.metadata.name!, (x) => ({
        ...x, status: { ...x.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(t.clock.now()) }] },
      }), { subresource: 'status' });
    }
    await c.reconcile('default/web');
    expect((await t.resources.get<ReplicaSet>(resourceTypes.replicasets, 'default', 'web')).status)
      .toMatchObject({ replicas: 300, readyReplicas: 120, availableReplicas: 120, fullyLabeledReplicas: 300 });
    expect(c.countWalks).toBe(1);
    // scaling down walks the active pods to choose which to delete (not-ready ones first)
    await t.resources.mutate<ReplicaSet>(resourceTypes.replicasets, 'default', 'web', (r) => ({ ...r, spec: { ...r.spec, replicas: 100 } }));
    await c.reconcile('default/web');
    const left = (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default' })).items.filter((p) => !p.metadata.deletionTimestamp);
    expect(left).toHaveLength(100);
    expect(left.every((p) => p.status?.phase === 'Running')).toBe(true);
    expect((await t.resources.get<ReplicaSet>(resourceTypes.replicasets, 'default', 'web')).status).toMatchObject({ replicas: 100, readyReplicas: 100 });
    c.stop();
  });
});
