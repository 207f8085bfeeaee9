import { describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import { ZONE_LABEL, ZoneStates, zoneState } from '../../../control-plane/controllers/nodelifecycle/zone-states.js';

const rules = { primaryPerSecond: 0.1, secondaryPerSecond: 0.01, unhealthyZoneThreshold: 0.55, largeClusterSizeThreshold: 50 };
const node = (name: string, zone: string, ready: boolean): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { [ZONE_LABEL]: zone } }, spec: {},
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'Unknown' }] },
} as Node);

function fleet(zones: Record<string, number>): ZoneStates {
  const states = new ZoneStates(rules);
  for (const [zone, n] of Object.entries(zones)) for (let i = 0; i < n; i++) states.observe(`${zone}-${i}`, node(`${zone}-${i}`, zone, true));
  return states;
}
const lose = (states: ZoneStates, zone: string, count: number) => {
  for (let i = 0; i < count; i++) states.observe(`${zone}-${i}`, node(`${zone}-${i}`, zone, false));
};

describe('node lifecycle zone rules (Kubernetes handleDisruption)', () => {
  it('states: full without a Ready node, partial from 55 % not Ready with more than 2 down', () => {
    expect(zoneState(0, 1, 0.55)).toBe('FullDisruption');
    expect(zoneState(1, 2, 0.55)).toBe('Normal'); // two down are never a zone problem
    expect(zoneState(2, 3, 0.55)).toBe('PartialDisruption');
    expect(zoneState(10, 3, 0.55)).toBe('Normal');
  });

  it('a single lost node is tainted at the primary rate', () => {
    const states = fleet({ a: 50 });
    lose(states, 'a', 1);
    expect(states.rateOf(states.zoneOfNode('a-0')!)).toBe(0.1);
  });

  it('a zone of 1,000 nodes lost at once, others healthy: that zone is tainted at the primary rate, the cluster is not emptied at once', () => {
    const states = fleet({ a: 1_000, b: 1_000, c: 1_000 });
    lose(states, 'a', 1_000);
    expect(states.stateOf(states.zoneOfNode('a-0')!)).toBe('FullDisruption');
    expect(states.rateOf(states.zoneOfNode('a-0')!)).toBe(0.1);
    expect(states.rateOf(states.zoneOfNode('b-0')!)).toBe(0.1);
  });

  it('every zone lost at once (the control plane lost its network): no evictions anywhere', () => {
    const states = fleet({ a: 1_000, b: 1_000 });
    lose(states, 'a', 1_000);
    lose(states, 'b', 1_000);
    expect(states.rateOf(states.zoneOfNode('a-0')!)).toBe(0);
    expect(states.rateOf(states.zoneOfNode('b-0')!)).toBe(0);
    // one node back: evictions resume, at each zone's rate
    states.observe('b-5', node('b-5', 'b', true));
    expect(states.rateOf(states.zoneOfNode('a-0')!)).toBe(0.1);
    expect(states.rateOf(states.zoneOfNode('b-0')!)).toBe(0.01); // b is partially disrupted and large
  });

  it('a partially disrupted zone slows to the secondary rate when large, and stops when small', () => {
    const large = fleet({ a: 100, b: 10 });
    lose(large, 'a', 60);
    expect(large.rateOf(large.zoneOfNode('a-5')!)).toBe(0.01);
    lose(large, 'b', 6);
    expect(large.rateOf(large.zoneOfNode('b-5')!)).toBe(0);
    large.observe('b-0', undefined); // deleted nodes leave the counts
    large.observe('b-1', undefined);
    large.observe('b-2', undefined);
    expect(large.stateOf(large.zoneOfNode('b-3')!)).toBe('Normal'); // 3 of 7 down
  });
});
