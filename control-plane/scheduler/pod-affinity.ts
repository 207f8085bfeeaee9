// Inter-pod affinity and anti-affinity by topology domain (topologyKey, e.g. kubernetes.io/hostname
// or topology.kubernetes.io/zone): required terms filter nodes, preferred terms score them, and
// existing pods' required anti-affinity keeps matching pods out of their domain (symmetry).
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { matchesLabelSelector as matchesSelector, type LabelSelectorSpec } from '../../api/label-selector.js';

export interface PodAffinityTerm { labelSelector?: LabelSelectorSpec; namespaces?: string[]; topologyKey: string }
interface WeightedTerm { weight: number; podAffinityTerm: PodAffinityTerm }
interface AffinityRules { requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[]; preferredDuringSchedulingIgnoredDuringExecution?: WeightedTerm[] }

const affinity = (pod: Pod) => pod.spec['affinity'] as { podAffinity?: AffinityRules; podAntiAffinity?: AffinityRules } | undefined;

export const hasPodAffinity = (pod: Pod): boolean => Boolean(affinity(pod)?.podAffinity || affinity(pod)?.podAntiAffinity);

/** The pod's required pod affinity and anti-affinity terms (the ones that filter nodes). */
export const requiredAffinityTerms = (pod: Pod): { affinity: PodAffinityTerm[]; antiAffinity: PodAffinityTerm[] } => ({
  affinity: affinity(pod)?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [],
  antiAffinity: affinity(pod)?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [],
});

/** Placed pods plus the node each one is on, for topology lookups. */
export interface PlacedPod { pod: Pod; node: Node }

/** Does `other` match a term of `owner`'s (its namespaces, default `owner`'s, and its label selector)? */
export function termMatches(term: PodAffinityTerm, owner: Pod, other: Pod): boolean {
  const namespaces = term.namespaces?.length ? term.namespaces : [owner.metadata.namespace];
  return namespaces.includes(other.metadata.namespace) && matchesSelector(term.labelSelector, other.metadata.labels);
}

const sameDomain = (key: string, a: Node, b: Node) => {
  const v = a.metadata.labels?.[key];
  return v !== undefined && v === b.metadata.labels?.[key];
};

/** Why the node breaks a required (anti-)affinity rule, or undefined when it does not. */
export function podAffinityViolation(pod: Pod, node: Node, placed: readonly PlacedPod[]): string | undefined {
  const rules = affinity(pod);
  for (const term of rules?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    const matching = placed.filter((p) => termMatches(term, pod, p.pod));
    // the first pod of a group that matches its own term may go anywhere
    if (matching.length === 0 && termMatches(term, pod, pod)) continue;
    if (!matching.some((p) => sameDomain(term.topologyKey, p.node, node))) return "node(s) didn't match pod affinity rules";
  }
  for (const term of rules?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (placed.some((p) => termMatches(term, pod, p.pod) && sameDomain(term.topologyKey, p.node, node))) return "node(s) didn't match pod anti-affinity rules";
  }
  for (const p of placed) {
    for (const term of affinity(p.pod)?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (termMatches(term, p.pod, pod) && sameDomain(term.topologyKey, p.node, node)) return "node(s) didn't satisfy existing pods anti-affinity rules";
    }
  }
  return undefined;
}

/** Preferred terms: + weight per matching pod in the domain for affinity, - for anti-affinity. */
export function preferredPodAffinityScore(pod: Pod, node: Node, placed: readonly PlacedPod[]): number {
  const rules = affinity(pod);
  let score = 0;
  for (const [list, sign] of [[rules?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution, 1], [rules?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution, -1]] as const) {
    for (const w of list ?? []) {
      const n = placed.filter((p) => termMatches(w.podAffinityTerm, pod, p.pod) && sameDomain(w.podAffinityTerm.topologyKey, p.node, node)).length;
      score += sign * w.weight * n;
    }
  }
  return score;
}
