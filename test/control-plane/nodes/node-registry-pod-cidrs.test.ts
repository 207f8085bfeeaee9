import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LeaseMessage, NodeStatusMessage } from '../../../api/mqtt/messages.js';
import { PROTOCOL_VERSION } from '../../../api/mqtt/messages.js';
import type { Event, Node } from '../../../api/types/node.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { NodeRegistry } from '../../../control-plane/nodes/node-registry.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });

const status = (node: string): NodeStatusMessage => ({
  v: PROTOCOL_VERSION, sessionId: `s-${node}`, seq: 0, ts: 0, node,
  labels: { 'kubernetes.io/hostname': node }, capacity: { pods: '110' }, allocatable: { pods: '110' },
  conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: '' }],
  addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], nodeInfo: {}, observedGeneration: 0,
});

describe('node registration gives pod CIDRs from --cluster-cidr', () => {
  let t: TestResources;
  let events: EventRecorder;
  // a /22 of /24s: blocks 1, 2 and 3 (block 0 is kept back)
  const settings = { clusterCidr: '10.7.0.0/22', nodeCidrMaskSize: 24 };
  const registry = () => new NodeRegistry(t.resources, events, t.clock, logger, settings);
  const cidrOf = async (name: string) => (await t.resources.get<Node>(resourceTypes.nodes, undefined, name)).spec.podCIDR;

  beforeEach(async () => {
    t = await openTestResources();
    events = new EventRecorder(t.resources, t.clock, logger);
  });
  afterEach(async () => {
    await events.settled();
    await t.close();
  });

  it('gives distinct blocks, says CIDRNotAvailable when the range is full, and gives a freed block to the node without one', async () => {
    const nodes = registry();
    await Promise.all(['a', 'b', 'c', 'd'].map((n) => nodes.nodeStatus(n, status(n))));
    const cidrs = await Promise.all(['a', 'b', 'c'].map(cidrOf));
    expect(new Set(cidrs)).toEqual(new Set(['10.7.1.0/24', '10.7.2.0/24', '10.7.3.0/24']));
    expect(await cidrOf('d')).toBeUndefined();
    await events.settled();
    const unavailable = (await t.resources.list<Event>(resourceTypes.events, { namespace: 'default' })).items.filter((e) => e.reason === 'CIDRNotAvailable');
    expect(unavailable.map((e) => [e.involvedObject.name, e.type, e.message])).toEqual([['d', 'Normal', 'Node d status is now: CIDRNotAvailable']]);

    const freed = await cidrOf('b');
    await t.resources.delete(resourceTypes.nodes, undefined, 'b');
    await nodes.nodeStatus('d', status('d')); // its next status report
    const node = await t.resources.get<Node>(resourceTypes.nodes, undefined, 'd');
    expect([node.spec.podCIDR, node.spec.podCIDRs]).toEqual([freed, [freed]]);
  });

  it('survives a restart: a new registry reads the blocks the Nodes hold and never gives one twice', async () => {
    await registry().nodeStatus('a', status('a'));
    await registry().nodeStatus('b', status('b')); // a fresh registry: as after a control-plane restart
    const restarted = registry();
    await restarted.nodeStatus('c', status('c'));
    await restarted.nodeStatus('d', status('d'));
    expect(new Set(await Promise.all(['a', 'b', 'c'].map(cidrOf))).size).toBe(3);
    expect(await cidrOf('d')).toBeUndefined();
  });

  it('takes a block a Node was created with through the API as used', async () => {
    const nodes = registry();
    await nodes.nodeStatus('a', status('a'));
    await t.resources.create<Node>(resourceTypes.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'manual' }, spec: { podCIDR: '10.7.2.0/24' } });
    await nodes.nodeStatus('b', status('b'));
    expect(await cidrOf('b')).toBe('10.7.3.0/24');
  });

  it('a node renewing its lease after it went Unknown is Ready again; renewals in between keep it Ready', async () => {
    const nodes = registry();
    const lease = (n: number): LeaseMessage => ({ v: PROTOCOL_VERSION, sessionId: 's-a', seq: n, ts: 0, node: 'a', renewTime: `2026-01-01T00:00:0${n}.000000Z`, leaseDurationSeconds: 40 });
    const ready = async () => (await t.resources.get<Node>(resourceTypes.nodes, undefined, 'a')).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    await nodes.nodeStatus('a', status('a'));
    await nodes.lease('a', lease(1));
    await nodes.lease('a', lease(2));
    expect(await ready()).toBe('True');
    expect(await nodes.markUnknown('a', 'NodeStatusUnknown', 'Kubelet stopped posting node status.')).toBe(true);
    expect(await ready()).toBe('Unknown');
    await nodes.lease('a', lease(3));
    expect(await ready()).toBe('True');
    expect(await nodes.markUnknown('a', 'NodeStatusUnknown', 'again')).toBe(true);
    await nodes.lease('a', lease(4));
    expect(await ready()).toBe('True');
  });

  it('refuses a cluster CIDR kube-controller-manager would refuse', () => {
    expect(() => new NodeRegistry(t.resources, events, t.clock, logger, { clusterCidr: '10.0.0.0/8', nodeCidrMaskSize: 28 })).toThrow(/more than 16 bits/);
  });
});
