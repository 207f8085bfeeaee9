// Node affinity as the scheduler and the DaemonSet controller judge it: nodeSelector, required
// nodeSelectorTerms (ORed terms of ANDed expressions: In, NotIn, Exists, DoesNotExist, Gt, Lt;
// matchFields on metadata.name), and the weight of matching preferred terms.
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';

export interface NodeSelectorRequirement { key: string; operator: string; values?: string[] }
export interface NodeSelectorTerm { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }

interface NodeAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
  preferredDuringSchedulingIgnoredDuringExecution?: Array<{ weight: number; preference: NodeSelectorTerm }>;
}

export const nodeAffinityOf = (pod: Pod): NodeAffinity | undefined =>
  (pod.spec['affinity'] as { nodeAffinity?: NodeAffinity } | undefined)?.nodeAffinity;

function matchesRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt': return value !== undefined && Number(value) < Number(values[0]);
    default: return false;
  }
}

export function matchesNodeSelectorTerm(term: NodeSelectorTerm, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  return exprs.every((r) => matchesRequirement(r, labels[r.key]))
    && fields.every((r) => r.key === 'metadata.name' && matchesRequirement(r, node.metadata.name));
}

/** nodeSelector and required node affinity both hold. */
export function matchesNodeAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = nodeAffinityOf(pod)?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t) => matchesNodeSelectorTerm(t, node));
}

/** Sum of the weights of the preferred terms the node matches. */
export function preferredNodeAffinityWeight(pod: Pod, node: Node): number {
  let sum = 0;
  for (const p of nodeAffinityOf(pod)?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (matchesNodeSelectorTerm(p.preference, node)) sum += p.weight;
  }
  return sum;
}
