import { describe, expect, it } from 'vitest';
import { unschedulableMessage, usageByNode } from '../../../control-plane/scheduler/node-fit.js';
import { placePod } from '../../../control-plane/scheduler/placement.js';
import { aNode, aPod } from '../../support/builders.js';

describe('placing a pod', () => {
  it('skips nodes that are not ready or unschedulable and says why', () => {
    const placement = placePod(aPod('p'), [aNode('a', { ready: false }), aNode('b', { unschedulable: true })], new Map());
    expect(placement.node).toBeUndefined();
    expect(unschedulableMessage(placement)).toBe('0/2 nodes are available: 1 node(s) were not ready, 1 node(s) were unschedulable.');
  });
  it('honours nodeSelector', () => {
    const nodes = [aNode('a'), aNode('b', { labels: { zone: 'north' } })];
    expect(placePod(aPod('p', { nodeSelector: { zone: 'north' } }), nodes, new Map()).node).toBe('b');
  });
  it('counts requests of bound, non-terminal pods against allocatable', () => {
    const nodes = [aNode('a', { cpu: '1' })];
    const bound = [aPod('x', { nodeName: 'a', requests: { cpu: '800m' } }), aPod('done', { nodeName: 'a', requests: { cpu: '900m' }, phase: 'Succeeded' })];
    const placement = placePod(aPod('p', { requests: { cpu: '300m' } }), nodes, usageByNode(bound));
    expect(placement.node).toBeUndefined();
    expect(unschedulableMessage(placement)).toBe('0/1 nodes are available: 1 Insufficient cpu.');
    expect(placePod(aPod('p', { requests: { cpu: '200m' } }), nodes, usageByNode(bound)).node).toBe('a');
  });
  it('counts sidecars (restartable init containers) with the app containers, as the agent admits them', () => {
    const pod = aPod('p', { requests: { cpu: '500m', memory: '64Mi' } });
    pod.spec.initContainers = [
      { name: 'side', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '400m', memory: '32Mi' } } },
      { name: 'setup', image: 'x', resources: { requests: { cpu: '100m' } } },
    ];
    const usage = usageByNode([{ ...pod, spec: { ...pod.spec, nodeName: 'a' } }]);
    expect(usage.get('a')).toMatchObject({ cpuMillis: 900, memoryBytes: 96 * 1024 * 1024 });
    expect(placePod(pod, [aNode('a', { cpu: '850m' })], new Map()).node).toBeUndefined();
    expect(placePod(pod, [aNode('a', { cpu: '900m' })], new Map()).node).toBe('a');
  });
  it('limits the number of pods per node', () => {
    const placement = placePod(aPod('p'), [aNode('a', { pods: '1' })], usageByNode([aPod('x', { nodeName: 'a' })]));
    expect(unschedulableMessage(placement)).toBe('0/1 nodes are available: 1 Too many pods.');
  });
  it('spreads pods to the least allocated node', () => {
    const nodes = [aNode('a'), aNode('b')];
    const usage = usageByNode([aPod('x', { nodeName: 'a', requests: { cpu: '2', memory: '1Gi' } })]);
    expect(placePod(aPod('p', { requests: { cpu: '100m' } }), nodes, usage).node).toBe('b');
  });
  it('keeps pods off tainted nodes unless they tolerate the taint', () => {
    const nodes = [aNode('a', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })];
    expect(placePod(aPod('p'), nodes, new Map()).node).toBeUndefined();
    const tolerant = aPod('q', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] });
    expect(placePod(tolerant, nodes, new Map()).node).toBe('a');
  });
  it('says when there are no nodes at all', () => {
    expect(unschedulableMessage(placePod(aPod('p'), [], new Map()))).toBe('no nodes available to schedule pods');
  });
});
