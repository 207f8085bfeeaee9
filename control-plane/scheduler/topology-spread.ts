// topologySpreadConstraints: the skew a node would create in each constraint's domains
// (count of matching pods in the node's domain + 1 - the least-loaded eligible domain). A
// DoNotSchedule constraint above maxSkew filters the node; ScheduleAnyway only lowers its score.
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { matchesLabelSelector as matchesSelector, type LabelSelectorSpec } from '../../api/label-selector.js';
import { matchesNodeAffinity } from '../resources/node-affinity.js';
import type { PlacedPod } from './pod-affinity.js';

export interface SpreadConstraint { maxSkew: number; topologyKey: string; whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway'; labelSelector?: LabelSelectorSpec; minDomains?: number }

export const spreadConstraintsOf = (pod: Pod): SpreadConstraint[] => (pod.spec['topologySpreadConstraints'] as SpreadConstraint[] | undefined) ?? [];

/** Matching-pod counts per domain value, over the nodes the pod could go to. */
function domainCounts(pod: Pod, c: SpreadConstraint, nodes: readonly Node[], placed: readonly PlacedPod[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of nodes) {
    const v = n.metadata.labels?.[c.topologyKey];
    if (v !== undefined && matchesNodeAffinity(pod, n)) counts.set(v, 0);
  }
  for (const p of placed) {
    const v = p.node.metadata.labels?.[c.topologyKey];
    if (v === undefined || !counts.has(v)) continue;
    if (p.pod.metadata.namespace === pod.metadata.namespace && matchesSelector(c.labelSelector, p.pod.metadata.labels)) counts.set(v, counts.get(v)! + 1);
  }
  return counts;
}

export interface SpreadView { skew(node: Node): { violates?: string; penalty: number } }

/** Precomputes domain counts once per scheduling decision. */
export function spreadView(pod: Pod, nodes: readonly Node[], placed: readonly PlacedPod[]): SpreadView {
  const constraints = spreadConstraintsOf(pod).map((c) => {
    const counts = domainCounts(pod, c, nodes, placed);
    const min = counts.size ? Math.min(...counts.values()) : 0;
    return { c, counts, min };
  });
  return {
    skew(node) {
      let penalty = 0;
      for (const { c, counts, min } of constraints) {
        const v = node.metadata.labels?.[c.topologyKey];
        if (v === undefined) {
          if (c.whenUnsatisfiable === 'DoNotSchedule') return { violates: "node(s) didn't match pod topology spread constraints (missing required label)", penalty };
          continue;
        }
        const skew = (counts.get(v) ?? 0) + 1 - min;
        if (skew > c.maxSkew && c.whenUnsatisfiable === 'DoNotSchedule') return { violates: "node(s) didn't match pod topology spread constraints", penalty };
        penalty += counts.get(v) ?? 0;
      }
      return { penalty };
    },
  };
}
