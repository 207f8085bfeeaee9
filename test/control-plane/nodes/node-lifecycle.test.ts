// The node lifecycle check against the kube rule: a node silent for longer than the grace period is
// NotReady within one monitor period after that, however many nodes went silent together and
// however long each write takes; a node that cannot be written does not hold back the others.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeStatusMessage } from '../../../api/mqtt/messages.js';
import { PROTOCOL_VERSION } from '../../../api/mqtt/messages.js';
import type { Node } from '../../../api/types/node.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { NodeLifecycle, type NodeLifecycleOptions } from '../../../control-plane/nodes/node-lifecycle.js';
import { NodeRegistry } from '../../../control-plane/nodes/node-registry.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const GRACE_MS = 40_000;
const PERIOD_MS = 5_000;

const status = (node: string): NodeStatusMessage => ({
  v: PROTOCOL_VERSION, sessionId: `s-${node}`, seq: 0, ts: 0, node,
  labels: { 'kubernetes.io/hostname': node }, capacity: { pods: '110' }, allocatable: { pods: '110' },
  conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: '' }],
  addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], nodeInfo: {}, observedGeneration: 0,
});

/** Lets the store's batched writes and their promises run (event-loop turns, not time). */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('node lifecycle: silent nodes go Unknown within one monitor period', () => {
  let t: TestResources;
  let events: EventRecorder;
  let registry: NodeRegistry;
  const names = Array.from({ length: 100 }, (_, i) => `node-${String(i).padStart(3, '0')}`);
  const ready = async (name: string) => (await t.resources.get<Node>(resourceTypes.nodes, undefined, name)).status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const unknownCount = async () => (await Promise.all(names.map(ready))).filter((s) => s === 'Unknown').length;
  const lifecycle = (reg: NodeLifecycleOptions['registry']) =>
    new NodeLifecycle({ resources: t.resources, registry: reg, clock: t.clock, logger, gracePeriodMs: GRACE_MS, checkIntervalMs: PERIOD_MS });

  beforeEach(async () => {
    t = await openTestResources();
    events = new EventRecorder(t.resources, t.clock, logger);
    registry = new NodeRegistry(t.resources, events, t.clock, logger);
    for (const name of names) await registry.nodeStatus(name, status(name)); // last heard from now
  });
  afterEach(async () => {
    await events.settled();
    await t.close();
  });

  it('marks 100 nodes that went silent together when each write takes 200 ms (checked: 25 of 100 when written one after another)', async () => {
    const slow: NodeLifecycleOptions['registry'] = {
      sessions: registry.sessions,
      markUnknown: (node, reason, message) => new Promise<void>((r) => t.clock.setTimeout(r, 200)).then(() => registry.markUnknown(node, reason, message)),
    };
    const monitor = lifecycle(slow);
    monitor.start();
    // the grace period runs out at 40 s; the first pass that sees it is at 45 s; the rule allows until 50 s
    for (let at = 0; at < GRACE_MS + 2 * PERIOD_MS; at += 100) {
      t.clock.advance(100);
      await turns();
    }
    monitor.stop();
    expect(await unknownCount()).toBe(names.length);
  });

  it('a node whose write fails does not hold back the others, and is tried again at the next pass', async () => {
    let failNode = true;
    const failing: NodeLifecycleOptions['registry'] = {
      sessions: registry.sessions,
      markUnknown: async (node, reason, message) => {
        if (node === names[0] && failNode) throw new Error('store unavailable');
        return registry.markUnknown(node, reason, message);
      },
    };
    const monitor = lifecycle(failing);
    t.clock.advance(GRACE_MS + 1);
    const marked = await monitor.check();
    expect(marked).toHaveLength(names.length - 1);
    expect(await ready(names[0]!)).toBe('True');
    expect(await unknownCount()).toBe(names.length - 1);
    failNode = false;
    expect(await monitor.check()).toEqual([names[0]]);
  });

  it('a node already Unknown is not written (nor read) again at every pass', async () => {
    let calls = 0;
    const counting: NodeLifecycleOptions['registry'] = {
      sessions: registry.sessions,
      markUnknown: (node, reason, message) => {
        calls++;
        return registry.markUnknown(node, reason, message);
      },
    };
    const monitor = lifecycle(counting);
    t.clock.advance(GRACE_MS + 1);
    expect(await monitor.check()).toHaveLength(names.length);
    calls = 0;
    t.clock.advance(PERIOD_MS);
    expect(await monitor.check()).toEqual([]);
    expect(calls).toBe(0);
  });

  it('a node heard from within the grace period is left alone', async () => {
    const monitor = lifecycle(registry);
    t.clock.advance(GRACE_MS - 1_000);
    await registry.nodeStatus(names[1]!, status(names[1]!));
    t.clock.advance(2_000);
    const marked = await monitor.check();
    expect(marked).not.toContain(names[1]);
    expect(marked).toHaveLength(names.length - 1);
    expect(await ready(names[1]!)).toBe('True');
  });

  it('a node that never posted a Ready condition gets Ready=Unknown once, not a write at every pass (checked: written again at every pass before)', async () => {
    await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'mute' }, spec: {} });
    const monitor = lifecycle(registry);
    t.clock.advance(GRACE_MS + 1);
    expect(await monitor.check()).toContain('mute');
    const after = await t.resources.get<Node>(resourceTypes.nodes, undefined, 'mute');
    expect(after.status?.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated' })]);
    t.clock.advance(PERIOD_MS);
    expect(await monitor.check()).toEqual([]);
    t.clock.advance(PERIOD_MS);
    expect(await monitor.check()).toEqual([]);
    expect((await t.resources.get<Node>(resourceTypes.nodes, undefined, 'mute')).metadata.resourceVersion).toBe(after.metadata.resourceVersion);
  });
});
