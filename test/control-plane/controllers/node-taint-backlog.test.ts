// The node lifecycle controller when a large zone is lost and every Node write is slow (200 ms of the
// fake clock, as a store batching on a busy loop was in the 3,000-agent zone loss): the NoSchedule
// taints of the whole zone go out together, and a NoExecute taint a zone lets through (with its
// evictions) does not wait behind them: here that of a node of another zone, lost last.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { NodeTaintController } from '../../../control-plane/controllers/nodelifecycle/node-taint-controller.js';
import { ZONE_LABEL } from '../../../control-plane/controllers/nodelifecycle/zone-states.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import type { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const WRITE_MS = 200;
const LOST = 400;
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
const TOLERATIONS = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }];

describe('node lifecycle controller: a lost zone with slow node writes', () => {
  let t: TestResources;
  let events: EventRecorder;
  let controller: NodeTaintController;
  afterEach(async () => {
    controller.stop();
    await events.settled();
    await t.close();
  });

  it(`${LOST} nodes lost at once, then one of another zone: its NoExecute taint and eviction within 1 s, every NoSchedule taint within 5 s (checked: one queue of 2 workers 40 s for the NoSchedule taints; one queue of 32, NoExecute 2.6 s)`, async () => {
    t = await openTestResources();
    events = new EventRecorder(t.resources, t.clock, logger);
    const names = (zone: string, n: number) => Array.from({ length: n }, (_, i) => `${zone}-${String(i).padStart(3, '0')}`);
    const setReady = (name: string, status: 'True' | 'Unknown') => t.resources.mutate<Node>(resourceTypes.nodes, undefined, name, (n) => ({
      ...n, status: { ...n.status, conditions: [{ type: 'Ready', status }] },
    }), { subresource: 'status' });
    for (const [zone, n] of [['a', LOST], ['b', 20], ['c', 2]] as const) {
      for (const name of names(zone, n)) {
        await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { [ZONE_LABEL]: zone } }, spec: {} });
        await setReady(name, 'True');
      }
    }
    for (const name of [...names('a', LOST), 'c-000']) {
      const pod = aPod(`pod-${name}`, { nodeName: name });
      await t.resources.create<Pod>(resourceTypes.pods, { ...pod, spec: { ...pod.spec, tolerations: TOLERATIONS } });
    }
    // the controller's Node writes each take WRITE_MS of the clock (everything else is as it is)
    const slow = new Proxy(t.resources, {
      get(target, prop) {
        if (prop === 'mutate') {
          return (...args: Parameters<ResourceStore['mutate']>) => new Promise<void>((r) => t.clock.setTimeout(() => r(), WRITE_MS)).then(() => target.mutate(...args));
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    controller = new NodeTaintController({ resources: slow, events, clock: t.clock, logger });
    controller.start();
    await turns(50);
    await controller.idle();

    const start = t.clock.now();
    for (const name of [...names('a', LOST), 'c-000']) await setReady(name, 'Unknown');
    // zone c (1 of 2 down: Normal) lets c-000 through at the first pass; zone a lets its first node through too
    let firstNoExecuteMs: number | undefined;
    let firstEvictionMs: number | undefined;
    let allNoScheduleMs: number | undefined;
    while (t.clock.now() - start < 60_000 && (firstNoExecuteMs === undefined || firstEvictionMs === undefined || allNoScheduleMs === undefined)) {
      t.clock.advance(100);
      await turns(10);
      const nodes = (await t.resources.list<Node>(resourceTypes.nodes)).items;
      const has = (n: Node, effect: string) => n.spec.taints?.some((x) => x.key === 'node.kubernetes.io/unreachable' && x.effect === effect);
      if (firstNoExecuteMs === undefined && nodes.some((n) => n.metadata.name === 'c-000' && has(n, 'NoExecute'))) firstNoExecuteMs = t.clock.now() - start;
      if (allNoScheduleMs === undefined && nodes.filter((n) => has(n, 'NoSchedule')).length === LOST + 1) allNoScheduleMs = t.clock.now() - start;
      const pod = (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default' })).items.find((p) => p.spec.nodeName === 'c-000');
      if (firstEvictionMs === undefined && (!pod || pod.metadata.deletionTimestamp)) firstEvictionMs = t.clock.now() - start;
    }
    expect({ firstNoExecuteMs, firstEvictionMs }).toEqual({ firstNoExecuteMs: expect.any(Number), firstEvictionMs: expect.any(Number) });
    expect(firstNoExecuteMs!).toBeLessThanOrEqual(1_000);
    expect(firstEvictionMs!).toBeLessThanOrEqual(1_000);
    expect(allNoScheduleMs!).toBeLessThanOrEqual(5_000);
  }, 60_000);
});
