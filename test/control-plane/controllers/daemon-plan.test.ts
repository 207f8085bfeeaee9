import { describe, expect, it } from 'vitest';
import { planDaemonSet, shouldRunOn } from '../../../control-plane/controllers/daemonset/daemon-plan.js';
import type { DaemonSet } from '../../../control-plane/controllers/workload-kinds.js';
import { aNode } from '../../support/builders.js';
import { aManagedPod, aTemplate, T0 } from './workload-builders.js';

function aDaemonSet(over: Partial<DaemonSet['spec']> = {}): DaemonSet {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default', uid: 'uid-ds', generation: 1 },
    spec: { selector: { matchLabels: { app: 'web' } }, template: aTemplate(), ...over } };
}
const dsPod = (name: string, node: string, hash: string, ready = true) => {
  const p = aManagedPod(name, { node, ready });
  p.metadata.labels = { ...p.metadata.labels, 'controller-revision-hash': hash };
  return p;
};

describe('planDaemonSet', () => {
  it('creates one pod on each matching node and removes pods from nodes that no longer match', () => {
    const ds = aDaemonSet({ template: { ...aTemplate(), spec: { ...aTemplate().spec, nodeSelector: { role: 'edge' } } } });
    const nodes = [aNode('n1', { labels: { role: 'edge' } }), aNode('n2', { labels: { role: 'edge' } }), aNode('n3')];
    const plan = planDaemonSet(ds, nodes, [dsPod('p1', 'n1', 'h'), dsPod('p3', 'n3', 'h')], 'h', T0);
    expect(plan.create).toEqual(['n2']);
    expect(plan.delete.map((p) => p.metadata.name)).toEqual(['p3']);
    expect(plan.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 1, numberMisscheduled: 1, numberReady: 1 });
  });

  it('skips nodes with taints it does not tolerate but runs on not-ready ones', () => {
    expect(shouldRunOn(aDaemonSet(), aNode('n', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }))).toBe(false);
    expect(shouldRunOn(aDaemonSet(), aNode('n', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }))).toBe(true);
  });

  it('replaces old pods one node at a time (maxUnavailable 1)', () => {
    const nodes = [aNode('n1'), aNode('n2'), aNode('n3')];
    const plan = planDaemonSet(aDaemonSet(), nodes, [dsPod('a', 'n1', 'old'), dsPod('b', 'n2', 'old'), dsPod('c', 'n3', 'old')], 'new', T0);
    expect(plan.delete).toHaveLength(1);
    expect(plan.status.updatedNumberScheduled).toBe(0);
    const midway = planDaemonSet(aDaemonSet(), nodes, [dsPod('b', 'n2', 'old'), dsPod('c', 'n3', 'old')], 'new', T0);
    expect(midway.create).toEqual(['n1']);
    expect(midway.delete).toHaveLength(0);
  });
});
