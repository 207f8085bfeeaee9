// The node lifecycle controller over the store, on a fake clock, against Kubernetes' rules
// (pkg/controller/nodelifecycle: zoneNoExecuteTainter, handleDisruption, setLimiterInZone): a
// not-Ready node gets its NoSchedule taint at once and its NoExecute taint (which evicts the pods
// that do not tolerate it) when its zone's token bucket (burst 1) lets it through: 0.1 nodes/s in a
// Normal zone or a FullDisruption zone while another is healthy, 0.01/s in a large (> 50 nodes)
// PartialDisruption zone, none in a small one, none anywhere while every zone is fully down.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { NodeTaintController } from '../../../control-plane/controllers/nodelifecycle/node-taint-controller.js';
import { ZONE_LABEL } from '../../../control-plane/controllers/nodelifecycle/zone-states.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
// as the fleet bench's pods: leave an unreachable node at once (the default toleration is 300 s)
const TOLERATIONS = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }];

describe('node lifecycle controller: zone rules on the NoExecute taint (Kubernetes)', () => {
  let t: TestResources;
  let events: EventRecorder;
  let controller: NodeTaintController;

  const names = (zone: string, n: number) => Array.from({ length: n }, (_, i) => `${zone}-${String(i).padStart(3, '0')}`);
  const setReady = (name: string, status: 'True' | 'Unknown') => t.resources.mutate<Node>(resourceTypes.nodes, undefined, name, (n) => ({
    ...n, status: { ...n.status, conditions: [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'NodeStatusUnknown' }] },
  }), { subresource: 'status' });
  const nodes = async () => (await t.resources.list<Node>(resourceTypes.nodes)).items;
  const tainted = async (effect: 'NoExecute' | 'NoSchedule') => (await nodes())
    .filter((n) => n.spec.taints?.some((x) => x.key === 'node.kubernetes.io/unreachable' && x.effect === effect)).map((n) => n.metadata.name!);
  const podsLeft = async () => (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default' })).items.filter((p) => !p.metadata.deletionTimestamp).length;

  /** Zones of Ready nodes, one pod on each node; the controller started and settled. */
  async function cluster(zones: Record<string, number>): Promise<void> {
    t = await openTestResources();
    events = new EventRecorder(t.resources, t.clock, logger);
    for (const [zone, n] of Object.entries(zones)) {
      for (const name of names(zone, n)) {
        await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { [ZONE_LABEL]: zone } }, spec: {} });
        await setReady(name, 'True');
        const pod = aPod(`pod-${name}`, { nodeName: name });
        await t.resources.create<Pod>(resourceTypes.pods, { ...pod, spec: { ...pod.spec, tolerations: TOLERATIONS } });
      }
    }
    controller = new NodeTaintController({ resources: t.resources, events, clock: t.clock, logger });
    controller.start();
    await turns(50);
    await controller.idle();
  }
  /** Loses `lost` nodes at once: every Ready write lands before the controller's next pass. */
  async function lose(lost: string[]): Promise<void> {
    for (const name of lost) await setReady(name, 'Unknown');
    await turns(20);
  }
  /** Advances the fake clock to `ms` after `from`, 100 ms at a time, letting the controller work. */
  async function runUntil(from: number, ms: number): Promise<void> {
    while (t.clock.now() < from + ms) {
      t.clock.advance(100);
      await turns();
    }
    await turns(20);
    await controller.idle();
  }

  afterEach(async () => {
    controller.stop();
    await events.settled();
    await t.close();
  });

  it('a zone of 50 lost at once while another is healthy (FullDisruption): NoSchedule on all at once, NoExecute on one node per 10 s (checked: all 50 at once before)', async () => {
    await cluster({ a: 50, b: 50 });
    const start = t.clock.now();
    await lose(names('a', 50));
    await runUntil(start, 200);
    expect((await tainted('NoSchedule')).length).toBe(50);
    expect(await tainted('NoExecute')).toEqual(['a-000']);
    expect(await podsLeft()).toBe(99); // its pod evicted at once (tolerationSeconds 0)
    await runUntil(start, 9_900);
    expect((await tainted('NoExecute')).length).toBe(1);
    await runUntil(start, 10_200);
    expect((await tainted('NoExecute')).length).toBe(2);
    await runUntil(start, 100_200);
    expect((await tainted('NoExecute')).length).toBe(11);
    await runUntil(start, 490_200);
    expect((await tainted('NoExecute')).length).toBe(50);
    expect(await podsLeft()).toBe(50); // zone b untouched
    expect(controller.waitingForTaint).toBe(0);
  });

  it('a large zone partly lost (PartialDisruption, 60 nodes, 40 down): one node at once, then 0.01/s; a small one: none', async () => {
    await cluster({ a: 60, b: 60, c: 10 });
    const start = t.clock.now();
    await lose([...names('a', 40), ...names('c', 6)]);
    await runUntil(start, 200);
    // the first pass judges both zones partially disrupted before it takes a token: the bucket swapped
    // from a full one starts full in a (one node), and c (small: rate 0) takes none
    expect(await tainted('NoExecute')).toEqual(['a-000']);
    expect((await tainted('NoSchedule')).length).toBe(46);
    await runUntil(start, 99_900);
    expect((await tainted('NoExecute')).length).toBe(1);
    await runUntil(start, 100_200);
    expect(await tainted('NoExecute')).toEqual(['a-000', 'a-001']);
    expect(await podsLeft()).toBe(130 - 2);
  });

  it('every zone lost at once: no NoExecute taint and no eviction; one node back and the zones are tainted at their rates again (checked: all 100 tainted before)', async () => {
    await cluster({ a: 50, b: 50 });
    const start = t.clock.now();
    await lose([...names('a', 50), ...names('b', 50)]);
    await runUntil(start, 60_000);
    expect((await tainted('NoSchedule')).length).toBe(100);
    expect(await tainted('NoExecute')).toEqual([]);
    expect(await podsLeft()).toBe(100);
    // b-000 is back: a is FullDisruption with b not, so a goes on at 0.1/s; b (49 of 50 down, small) at none.
    // The buckets swapped from "never" start empty: a's first node 10 s later.
    await setReady('b-000', 'True');
    const back = t.clock.now();
    await runUntil(back, 9_900);
    expect(await tainted('NoExecute')).toEqual([]);
    await runUntil(back, 10_200);
    expect(await tainted('NoExecute')).toEqual(['a-000']);
    expect(await podsLeft()).toBe(99);
  });

  it('a tainted zone whose last healthy zone then goes down loses its NoExecute taints (Kubernetes: markNodeAsReachable)', async () => {
    await cluster({ a: 50, b: 50 });
    const start = t.clock.now();
    await lose(names('a', 50));
    await runUntil(start, 20_200);
    expect((await tainted('NoExecute')).length).toBe(3);
    await lose(names('b', 50));
    await runUntil(start, 60_000);
    expect(await tainted('NoExecute')).toEqual([]);
    expect((await tainted('NoSchedule')).length).toBe(100);
  });

  it('a zone lost node by node ends FullDisruption and is tainted at the primary rate, not at the 0.01/s it passed through', async () => {
    await cluster({ a: 60, b: 60 });
    const start = t.clock.now();
    for (const name of names('a', 60)) {
      await setReady(name, 'Unknown');
      await turns();
      t.clock.advance(50);
    }
    const down = t.clock.now();
    await runUntil(down, 25_000);
    // one at the loss's start (Normal, a full bucket), then Partial drained the bucket; Full (0.1/s)
    // swaps in an empty one at ~3 s: one node at ~13 s and ~23 s
    expect((await tainted('NoExecute')).length).toBe(3);
    expect(down - start).toBe(3_000);
  });
});
