// Pure preemption decisions, as the default scheduler's DefaultPreemption plugin makes them: for a pod
// no node fits, each node where removing every lower-priority pod would let it fit is a candidate;
// its victims are those lower-priority pods that cannot be reprieved (the most important first, pods
// whose eviction would break a PodDisruptionBudget before the others). The chosen node has the
// fewest budget violations, then the lowest highest-victim priority, the smallest priority sum, the
// fewest victims. Nominated pods (waiting for their victims to go) count as placed on their node.
import type { Node } from '../../api/types/node.js';
import { isTerminalPhase, type Pod } from '../../api/types/pod.js';
import type { PodDisruptionBudget } from '../resources/kinds/policy.js';
import { matchesLabelSelector } from '../resources/selector-object.js';
import { usageByNode } from './node-fit.js';
import { placePod } from './placement.js';
import type { PlacedPod } from './pod-affinity.js';

export const podPriority = (pod: Pod): number => (typeof pod.spec['priority'] === 'number' ? pod.spec['priority'] : 0);
const nominatedNode = (pod: Pod): string | undefined => (pod.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName || undefined;

export interface PreemptionPlan {
  node: string;
  victims: Pod[];
  pdbViolations: number;
}

/** Why a pod may not preempt now: its policy says Never, or its earlier victims are still terminating. */
export function preemptionBlocked(pod: Pod, pods: readonly Pod[]): string | undefined {
  if (pod.spec['preemptionPolicy'] === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  const nominated = nominatedNode(pod);
  if (nominated && pods.some((p) => p.spec.nodeName === nominated && p.metadata.deletionTimestamp && podPriority(p) < podPriority(pod))) {
    return 'not eligible due to a terminating pod on the nominated node.';
  }
  return undefined;
}

/**
 * The pods the scheduler counts as using each node when placing `pod`: bound pods, and unbound pods
 * nominated to a node whose priority is at least `pod`'s (their victims' room is kept for them).
 */
export function podsHoldingNodes(pod: Pod, pods: readonly Pod[]): Pod[] {
  const out: Pod[] = [];
  for (const p of pods) {
    if (p.spec.nodeName) out.push(p);
    else if (p !== pod && p.metadata.uid !== pod.metadata.uid && nominatedNode(p) && !p.metadata.deletionTimestamp && podPriority(p) >= podPriority(pod)) {
      out.push({ ...p, spec: { ...p.spec, nodeName: nominatedNode(p)! } });
    }
  }
  return out;
}

const startOf = (p: Pod) => Date.parse((p.status as { startTime?: string } | undefined)?.startTime ?? p.metadata.creationTimestamp ?? '') || 0;
/** More important first: higher priority, then the earlier started. */
const byImportance = (a: Pod, b: Pod) => podPriority(b) - podPriority(a) || startOf(a) - startOf(b);

/** Splits pods (in order) into those whose eviction would break a budget and the others, spending each budget's allowance. */
function splitByBudget(pods: readonly Pod[], budgets: readonly PodDisruptionBudget[]): { violating: Pod[]; fine: Pod[] } {
  const allowed = new Map(budgets.map((b) => [b, b.status?.disruptionsAllowed ?? 0]));
  const violating: Pod[] = [];
  const fine: Pod[] = [];
  for (const pod of pods) {
    let breaks = false;
    for (const b of budgets) {
      if (b.metadata.namespace !== pod.metadata.namespace || !matchesLabelSelector(b.spec?.selector, pod.metadata.labels)) continue;
      if (b.status?.disruptedPods?.[pod.metadata.name ?? '']) continue; // already counted as disrupted
      const left = (allowed.get(b) ?? 0) - 1;
      allowed.set(b, left);
      if (left < 0) breaks = true;
    }
    (breaks ? violating : fine).push(pod);
  }
  return { violating, fine };
}

function candidateOn(pod: Pod, node: Node, holding: readonly Pod[], nodes: ReadonlyMap<string, Node>, budgets: readonly PodDisruptionBudget[]): PreemptionPlan | undefined {
  const name = node.metadata.name!;
  const live = (p: Pod) => p.spec.nodeName === name && !isTerminalPhase(p.status?.phase);
  const lower = holding.filter((p) => live(p) && !p.metadata.deletionTimestamp && podPriority(p) < podPriority(pod) && p.spec.nodeName);
  if (!lower.length) return undefined;
  const removed = new Set<Pod>(lower);
  const fits = () => {
    const rest = holding.filter((p) => !removed.has(p));
    const placed: PlacedPod[] = [];
    for (const p of rest) {
      const n = p.spec.nodeName ? nodes.get(p.spec.nodeName) : undefined;
      if (n && !isTerminalPhase(p.status?.phase)) placed.push({ pod: p, node: n });
    }
    return placePod(pod, [node], usageByNode(rest), placed).node === name;
  };
  if (!fits()) return undefined;
  const { violating, fine } = splitByBudget([...lower].sort(byImportance), budgets);
  const victims: Pod[] = [];
  let pdbViolations = 0;
  const reprieve = (p: Pod, breaks: boolean) => {
    removed.delete(p);
    if (fits()) return;
    removed.add(p);
    victims.push(p);
    if (breaks) pdbViolations++;
  };
  for (const p of violating) reprieve(p, true);
  for (const p of fine) reprieve(p, false);
  return victims.length ? { node: name, victims, pdbViolations } : undefined;
}

const INT32_OFFSET = 2 ** 31 + 1; // priorities made positive before summing, as the real scheduler does

/** The best node to preempt on, or undefined when no node's lower-priority pods make room. */
export function planPreemption(pod: Pod, nodes: readonly Node[], pods: readonly Pod[], budgets: readonly PodDisruptionBudget[]): PreemptionPlan | undefined {
  const holding = podsHoldingNodes(pod, pods);
  const byName = new Map(nodes.map((n) => [n.metadata.name!, n]));
  const candidates = nodes.map((n) => candidateOn(pod, n, holding, byName, budgets)).filter((c): c is PreemptionPlan => c !== undefined);
  const key = (c: PreemptionPlan) => [
    c.pdbViolations,
    Math.max(...c.victims.map(podPriority), -Infinity),
    c.victims.reduce((sum, v) => sum + podPriority(v) + INT32_OFFSET, 0),
    c.victims.length,
  ];
  candidates.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    return a.node.localeCompare(b.node);
  });
  return candidates[0];
}
