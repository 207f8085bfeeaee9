import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { unschedulableMessage, usageByNode } from '../../../control-plane/scheduler/node-fit.js';
import { placePod } from '../../../control-plane/scheduler/placement.js';
import type { PlacedPod } from '../../../control-plane/scheduler/pod-affinity.js';
import { aNode, aPod } from '../../support/builders.js';

const zones = [aNode('a1', { labels: { 'topology.kubernetes.io/zone': 'a' } }), aNode('a2', { labels: { 'topology.kubernetes.io/zone': 'a' } }), aNode('b1', { labels: { 'topology.kubernetes.io/zone': 'b' } })];
const web = (name: string, nodeName?: string, spec: Record<string, unknown> = {}): Pod => {
  const p = aPod(name, nodeName ? { nodeName } : {});
  p.metadata.labels = { app: 'web' };
  Object.assign(p.spec, spec);
  return p;
};
const placedOn = (pods: Pod[]): PlacedPod[] => pods.map((pod) => ({ pod, node: zones.find((n) => n.metadata.name === pod.spec.nodeName)! }));

describe('scheduling with affinity, spread and host ports', () => {
  it('honours required node affinity and prefers nodes matching preferred terms', () => {
    const pod = web('p', undefined, { affinity: { nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a2'] }] } }],
    } } });
    const placement = placePod(pod, zones, new Map());
    expect(placement.node).toBe('a2');
  });

  it('keeps pods with required anti-affinity out of a hostname that already runs one, and says why when none is left', () => {
    const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
    const existing = [web('x', 'a1', anti), web('y', 'b1', anti)];
    expect(placePod(web('p', undefined, anti), zones, usageByNode(existing), placedOn(existing)).node).toBe('a2');
    const full = [...existing, web('z', 'a2', anti)];
    const placement = placePod(web('p', undefined, anti), zones, usageByNode(full), placedOn(full));
    expect(placement.node).toBeUndefined();
    expect(unschedulableMessage(placement)).toBe("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
  });

  it('follows required pod affinity to the zone of the matching pods', () => {
    const existing = [web('x', 'b1')];
    const pod = aPod('cache');
    pod.spec['affinity'] = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'topology.kubernetes.io/zone' }] } };
    expect(placePod(pod, zones, usageByNode(existing), placedOn(existing)).node).toBe('b1');
  });

  it('spreads over zones within maxSkew (DoNotSchedule)', () => {
    const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] };
    const existing = [web('x', 'a1'), web('y', 'a2')];
    expect(placePod(web('p', undefined, spread), zones, usageByNode(existing), placedOn(existing)).node).toBe('b1');
  });

  it('does not place two pods using the same host port on one node', () => {
    const withPort = (name: string, nodeName?: string) => {
      const p = web(name, nodeName);
      p.spec.containers[0]!.ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }];
      return p;
    };
    const existing = [withPort('x', 'a1'), withPort('y', 'a2')];
    expect(placePod(withPort('p'), zones, usageByNode(existing)).node).toBe('b1');
  });
});
