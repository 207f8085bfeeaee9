// A PersistentVolume's spec.nodeAffinity: which nodes can reach it (a local-path volume: one node).
import type { Node } from '../../api/types/node.js';
import type { PersistentVolume } from './kinds/config.js';
import { matchesNodeSelectorTerm, type NodeSelectorTerm } from './node-affinity.js';

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

const termsOf = (pv: PersistentVolume): NodeSelectorTerm[] | undefined =>
  (pv.spec['nodeAffinity'] as { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } } | undefined)?.required?.nodeSelectorTerms;

/** Whether pods on `node` can use the volume (no affinity: any node). */
export function volumeFitsNode(pv: PersistentVolume, node: Node): boolean {
  const terms = termsOf(pv);
  return !terms || terms.some((t) => matchesNodeSelectorTerm(t, node));
}

/**
 * The node names a volume is pinned to by `kubernetes.io/hostname In [...]` (how provisioned
 * volumes are pinned; skiff nodes' hostname label is their name); undefined when not pinned so.
 */
export function volumeHostnames(pv: PersistentVolume): string[] | undefined {
  const terms = termsOf(pv);
  if (!terms) return undefined;
  const names: string[] = [];
  for (const t of terms) {
    const e = (t.matchExpressions ?? []).find((x) => x.key === HOSTNAME_LABEL && x.operator === 'In');
    if (!e) return undefined;
    names.push(...(e.values ?? []));
  }
  return names;
}

/** The affinity of a volume provisioned on one node. */
export function hostnameAffinity(hostname: string): { required: { nodeSelectorTerms: NodeSelectorTerm[] } } {
  return { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostname] }] }] } };
}
