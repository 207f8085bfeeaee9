// Only a Node change that may let a waiting pod fit sends the unschedulable pods round again
// (kube-scheduler's QueueingHints): NotReady and taint writes of a lost zone must not.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { domainsChanged, nodeChangeMayHelp, nodeChangeMayHelpPod } from '../../../control-plane/scheduler/node-change-hints.js';
import { aNode } from '../../support/builders.js';
import { startSchedulerHarness, type SchedulerHarness } from '../support/scheduler-harness.js';
import { aPod } from '../support/test-resources.js';

const { pods, nodes } = resourceTypes;
const NOT_READY = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' } as const;

describe('nodeChangeMayHelp', () => {
  const base = aNode('n1', { pods: '2' });
  const withStatus = (n: Node, status: Partial<NonNullable<Node['status']>>): Node => ({ ...n, status: { ...n.status, ...status } });

  it('says no to changes that only narrow what fits', () => {
    expect(nodeChangeMayHelp(base, aNode('n1', { pods: '2', ready: false }))).toBe(false);
    expect(nodeChangeMayHelp(base, aNode('n1', { pods: '2', taints: [NOT_READY] }))).toBe(false);
    expect(nodeChangeMayHelp(base, aNode('n1', { pods: '2', unschedulable: true }))).toBe(false);
    expect(nodeChangeMayHelp(base, aNode('n1', { pods: '1' }))).toBe(false);
    const beat = withStatus(base, { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-12-07T00:00:00Z' }] });
    expect(nodeChangeMayHelp(base, beat)).toBe(false);
  });

  it('says yes to changes that may let a pod fit', () => {
    expect(nodeChangeMayHelp(undefined, base)).toBe(true);
    expect(nodeChangeMayHelp(base, undefined)).toBe(true);
    expect(nodeChangeMayHelp(aNode('n1', { pods: '2', ready: false }), base)).toBe(true);
    expect(nodeChangeMayHelp(aNode('n1', { pods: '2', taints: [NOT_READY] }), base)).toBe(true);
    expect(nodeChangeMayHelp(aNode('n1', { pods: '2', unschedulable: true }), base)).toBe(true);
    expect(nodeChangeMayHelp(base, aNode('n1', { pods: '3' }))).toBe(true);
    expect(nodeChangeMayHelp(base, aNode('n1', { pods: '2', memory: '16Gi' }))).toBe(true);
    expect(nodeChangeMayHelp(base, aNode('n1', { pods: '2', labels: { zone: 'a' } }))).toBe(true);
    expect(nodeChangeMayHelp(base, withStatus(base, { allocatable: { ...base.status!.allocatable, 'example.com/gpu': '1' } }))).toBe(true);
    expect(nodeChangeMayHelp(base, withStatus(base, { allocatable: { ...base.status!.allocatable, pods: 'junk' } }))).toBe(true);
  });
});

describe('nodeChangeMayHelpPod', () => {
  const full = { pods: 2, cpuMillis: 0, memoryBytes: 0 };
  it('says yes when the pod now fits the node, or when domains changed and the pod depends on them', () => {
    const node = aNode('n1', { pods: '2', labels: { zone: 'a' } });
    expect(nodeChangeMayHelpPod(aPod('p'), node, undefined, false, false)).toBe(true);
    expect(nodeChangeMayHelpPod(aPod('p'), node, full, true, false)).toBe(false);
    expect(nodeChangeMayHelpPod(aPod('p'), undefined, undefined, true, false)).toBe(false); // deleted
    expect(nodeChangeMayHelpPod(aPod('p'), undefined, undefined, true, true)).toBe(true); // a placed pod's affinity counts domains
    const spread = aPod('p');
    spread.spec['topologySpreadConstraints'] = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }];
    expect(nodeChangeMayHelpPod(spread, node, full, true, false)).toBe(true);
    expect(nodeChangeMayHelpPod(spread, node, full, false, false)).toBe(false);
    expect(domainsChanged(node, aNode('n1', { pods: '2', labels: { zone: 'b' } }))).toBe(true);
    expect(domainsChanged(node, aNode('n1', { pods: '3', labels: { zone: 'a' } }))).toBe(false);
  });
});

describe('the scheduler on node changes', () => {
  let h: SchedulerHarness;
  beforeEach(async () => {
    h = await startSchedulerHarness();
  });
  afterEach(() => h.stop());

  const changeStatus = (name: string, change: (n: Node) => Node) => h.t.resources.mutate<Node>(nodes, undefined, name, change, { subresource: 'status' });
  const changeSpec = (name: string, change: (n: Node) => Node) => h.t.resources.mutate<Node>(nodes, undefined, name, change);

  it('leaves a waiting pod alone while nodes go NotReady and get tainted, and tries it when one has room', async () => {
    await h.t.resources.create(nodes, aNode('n1', { pods: '1' }));
    await h.t.resources.create(nodes, aNode('n2', { pods: '1' }));
    await h.t.resources.create(pods, aPod('a'));
    await h.t.resources.create(pods, aPod('b'));
    await h.t.resources.create(pods, aPod('waiting'));
    await h.until('waiting unschedulable', () => h.isUnschedulable('waiting'));
    await h.pastBackoff(); // so that a helpful event would send it round at once
    const before = h.tries;
    for (const name of ['n1', 'n2']) {
      await changeStatus(name, (n) => ({ ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'Unknown' }] } }));
      await changeSpec(name, (n) => ({ ...n, spec: { ...n.spec, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] } }));
    }
    // labels changed on a node it still does not fit (full): a try only for pods that depend on domains
    await changeSpec('n1', (n) => ({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, rack: 'r1' } } }));
    await h.scheduler.idle();
    expect(h.tries).toBe(before); // without the hints: one more try of the waiting pod per node event
    await h.t.resources.create(nodes, aNode('n3', { pods: '1' }));
    await h.until('waiting bound to n3', async () => (await h.pod('waiting')).spec.nodeName === 'n3');
  });
});
