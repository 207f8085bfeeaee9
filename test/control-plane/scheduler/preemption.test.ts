// Preemption decisions: the node whose lower-priority pods make room, the fewest and least important
// victims, budgets respected where another choice exists, nominated pods holding their room, and
// when a pod may not preempt (policy Never, victims still terminating).
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import type { PodDisruptionBudget } from '../../../control-plane/resources/kinds/policy.js';
import { usageByNode } from '../../../control-plane/scheduler/node-fit.js';
import { placePod } from '../../../control-plane/scheduler/placement.js';
import { planPreemption, podsHoldingNodes, preemptionBlocked } from '../../../control-plane/scheduler/preemption.js';
import { aNode, aPod } from '../../support/builders.js';

const prioritized = (name: string, priority: number, over: Parameters<typeof aPod>[1] & { labels?: Record<string, string>; started?: string } = {}): Pod => {
  const pod = aPod(name, over);
  pod.spec['priority'] = priority;
  pod.spec['preemptionPolicy'] = 'PreemptLowerPriority';
  if (over.labels) pod.metadata.labels = over.labels;
  if (over.started) pod.status = { ...pod.status, startTime: over.started } as Pod['status'];
  return pod;
};
const names = (pods: readonly Pod[]) => pods.map((p) => p.metadata.name).sort();
const budget = (name: string, app: string, allowed: number): PodDisruptionBudget => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' },
  spec: { selector: { matchLabels: { app } } }, status: { disruptionsAllowed: allowed, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
});

describe('preemption', () => {
  it('evicts only as many lower-priority pods as the pod needs, the least important first', () => {
    const node = aNode('a', { memory: '1Gi' });
    const pods = [
      prioritized('low-1', 10, { nodeName: 'a', requests: { memory: '300Mi' } }),
      prioritized('low-2', 20, { nodeName: 'a', requests: { memory: '300Mi' } }),
      prioritized('peer', 100, { nodeName: 'a', requests: { memory: '300Mi' } }),
    ];
    const high = prioritized('high', 100, { requests: { memory: '400Mi' } });
    expect(placePod(high, [node], usageByNode(pods)).node).toBeUndefined();
    const plan = planPreemption(high, [node], [...pods, high], []);
    expect(plan).toMatchObject({ node: 'a', pdbViolations: 0 });
    expect(names(plan!.victims)).toEqual(['low-1']);
    // a pod of equal priority is never a victim: with only peers there is nothing to do
    expect(planPreemption(prioritized('other', 100, { requests: { memory: '900Mi' } }), [node], pods.slice(2), [])).toBeUndefined();
  });

  it('picks the node with the least important victims, then the fewest', () => {
    const nodes = [aNode('a', { memory: '1Gi' }), aNode('b', { memory: '1Gi' }), aNode('c', { memory: '1Gi' })];
    const pods = [
      prioritized('a-mid', 50, { nodeName: 'a', requests: { memory: '900Mi' } }),
      prioritized('b-low-1', 5, { nodeName: 'b', requests: { memory: '450Mi' } }),
      prioritized('b-low-2', 5, { nodeName: 'b', requests: { memory: '450Mi' } }),
      prioritized('c-low', 5, { nodeName: 'c', requests: { memory: '900Mi' } }),
    ];
    const plan = planPreemption(prioritized('high', 100, { requests: { memory: '800Mi' } }), nodes, pods, []);
    expect(plan?.node).toBe('c');
    expect(names(plan!.victims)).toEqual(['c-low']);
  });

  it('respects disruption budgets where another choice exists', () => {
    const nodes = [aNode('a', { memory: '1Gi' }), aNode('b', { memory: '1Gi' })];
    const pods = [
      prioritized('guarded', 1, { nodeName: 'a', requests: { memory: '900Mi' }, labels: { app: 'guarded' } }),
      prioritized('free', 5, { nodeName: 'b', requests: { memory: '900Mi' }, labels: { app: 'free' } }),
    ];
    const high = prioritized('high', 100, { requests: { memory: '500Mi' } });
    const plan = planPreemption(high, nodes, pods, [budget('guard', 'guarded', 0)]);
    expect(plan).toMatchObject({ node: 'b', pdbViolations: 0 });
    // the budget is broken only when no other node would do
    const only = planPreemption(high, [nodes[0]!], pods, [budget('guard', 'guarded', 0)]);
    expect(only).toMatchObject({ node: 'a', pdbViolations: 1 });
  });

  it('keeps a nominated pod\'s room from lower-priority pods and may not preempt twice while victims terminate', () => {
    const node = aNode('a', { memory: '1Gi' });
    const nominated = prioritized('nominated', 100, { requests: { memory: '800Mi' } });
    nominated.status = { phase: 'Pending', nominatedNodeName: 'a' } as Pod['status'];
    const lowcomer = prioritized('lowcomer', 1, { requests: { memory: '300Mi' } });
    const holding = podsHoldingNodes(lowcomer, [nominated, lowcomer]);
    expect(placePod(lowcomer, [node], usageByNode(holding)).node).toBeUndefined();
    expect(placePod(prioritized('higher', 200, { requests: { memory: '300Mi' } }), [node], usageByNode(podsHoldingNodes(prioritized('higher', 200), [nominated]))).node).toBe('a');

    const terminating = prioritized('victim', 1, { nodeName: 'a', requests: { memory: '900Mi' } });
    terminating.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(preemptionBlocked(nominated, [terminating])).toBe('not eligible due to a terminating pod on the nominated node.');
    const never = prioritized('never', 100);
    never.spec['preemptionPolicy'] = 'Never';
    expect(preemptionBlocked(never, [])).toBe('not eligible due to preemptionPolicy=Never.');
    expect(preemptionBlocked(prioritized('free', 100), [terminating])).toBeUndefined();
  });
});
