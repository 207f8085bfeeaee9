// The node lifecycle controller over the store when a whole zone is lost node by node: on its way to
// FullDisruption the zone passes through PartialDisruption (the secondary rate, 0.01/s), and the
// nodes refused an eviction then must be looked at again when the zone turns FullDisruption (the
// primary rate, the other zone healthy), not 100 s later when the secondary rate's wait ends.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { NodeTaintController } from '../../../control-plane/controllers/nodelifecycle/node-taint-controller.js';
import { ZONE_LABEL } from '../../../control-plane/controllers/nodelifecycle/zone-states.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const PER_ZONE = 60; // a large zone (> 50 nodes): PartialDisruption evicts at the secondary rate

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('node lifecycle controller: a zone lost node by node', () => {
  let t: TestResources;
  let events: EventRecorder;
  let controller: NodeTaintController;
  const lost = Array.from({ length: PER_ZONE }, (_, i) => `a-${String(i).padStart(2, '0')}`);
  const healthy = Array.from({ length: PER_ZONE }, (_, i) => `b-${String(i).padStart(2, '0')}`);

  const setReady = (name: string, status: 'True' | 'Unknown') => t.resources.mutate<Node>(resourceTypes.nodes, undefined, name, (n) => ({
    ...n, status: { ...n.status, conditions: [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'NodeStatusUnknown' }] },
  }), { subresource: 'status' });
  const evicted = async () => (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default' })).items
    .filter((p) => lost.includes(p.spec.nodeName!) && p.metadata.deletionTimestamp === undefined).length;

  beforeEach(async () => {
    t = await openTestResources();
    events = new EventRecorder(t.resources, t.clock, logger);
    for (const name of [...lost, ...healthy]) {
      await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { [ZONE_LABEL]: name.slice(0, 1) } }, spec: {} });
      await setReady(name, 'True');
    }
    // as the fleet bench's pods: leave an unreachable node at once (the default toleration is 300 s)
    const tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }];
    for (const name of lost) {
      const pod = aPod(`pod-${name}`, { nodeName: name });
      await t.resources.create<Pod>(resourceTypes.pods, { ...pod, spec: { ...pod.spec, tolerations } });
    }
    controller = new NodeTaintController({ resources: t.resources, events, clock: t.clock, logger });
    controller.start();
    await turns(50);
  });
  afterEach(async () => {
    controller.stop();
    await events.settled();
    await t.close();
  });

  it('evicts the lost zone at the primary rate once it is fully down (checked: 23 of 60 pods left after 8 s without the fix)', async () => {
    for (const name of lost) {
      await setReady(name, 'Unknown');
      await turns();
      t.clock.advance(50);
    }
    // fully down, the other zone healthy: 10/s with a burst of 10 empties 60 nodes in ~5 s
    for (let ms = 0; ms < 8_000; ms += 100) {
      t.clock.advance(100);
      await turns();
    }
    await turns(50);
    expect(await evicted()).toBe(0);
  });
});
