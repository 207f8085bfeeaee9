// The search for a pod's node, as kube-scheduler's scheduling cycle makes it: filter nodes from a
// rotating start until enough are feasible (percentageOfNodesToScore), score those, take the best
// (ties by name). Most pods ask nothing of a node but room (no node selector or affinity, no pod
// (anti-)affinity, no spread constraints): for them a ready, schedulable, untainted node is judged
// by a few number comparisons and scored by least-allocated alone (placeSimplePod); every other node
// and pod goes through every filter and score (placePodFully). Both give the same answer, which a
// seeded fuzz checks (test/control-plane/scheduler/placement-fuzz.test.ts).
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { nodeAffinityOf, preferredNodeAffinityWeight } from '../resources/node-affinity.js';
import { cachedHostPorts, fitsNode, podRequests, scoreNode, type Placement, type UsageLookup } from './node-fit.js';
import { NodeTable } from './node-table.js';
import { hasPodAffinity, podAffinityViolation, preferredPodAffinityScore, type PlacedPod } from './pod-affinity.js';
import { spreadConstraintsOf, spreadView } from './topology-spread.js';

/**
 * How many feasible nodes a decision looks for before it stops (kube-scheduler's
 * percentageOfNodesToScore, adaptive): every node up to 100, then 50 % less 1 % per 125 nodes,
 * never under 5 % nor 100 nodes.
 */
export function feasibleNodesToFind(nodeCount: number): number {
  if (nodeCount <= 100) return nodeCount;
  const percentage = Math.max(5, 50 - nodeCount / 125);
  return Math.max(100, Math.floor((nodeCount * percentage) / 100));
}

/** Where a limited search starts (the node after the last one looked at) and how far it may go. */
export interface NodeSearch { start: number; feasibleToFind: number }

export type PlacementResult = Placement & { searched: number };

/**
 * One search over `nodes` (the Scheduler keeps a NodeTable and calls placeSimplePod itself).
 * `placed`: bound pods with their nodes, needed only for pod affinity and topology spread.
 * `search`: look at nodes from `start` (wrapping) until `feasibleToFind` fit; `searched` says how many were looked at.
 */
export function placePod(pod: Pod, nodes: readonly Node[], usage: UsageLookup, placed: readonly PlacedPod[] = [], search?: NodeSearch): PlacementResult {
  return isSimplePod(pod, placed) ? placeSimplePod(pod, NodeTable.of(nodes, usage), search) : placePodFully(pod, nodes, usage, placed, search);
}

/** A pod only room can keep off a plain node, and that only least-allocated scores. */
export function isSimplePod(pod: Pod, placed: readonly PlacedPod[]): boolean {
  const selector = pod.spec.nodeSelector;
  if (selector && Object.keys(selector).length) return false;
  const nodeAffinity = nodeAffinityOf(pod);
  if (nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms !== undefined) return false;
  if (nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length) return false;
  if (spreadConstraintsOf(pod).length) return false;
  return !hasPodAffinity(pod) && !placed.some((p) => hasPodAffinity(p.pod));
}

/** `start` in [0, n) and how many feasible nodes end the search. */
function bounds(n: number, search: NodeSearch | undefined): { start: number; limit: number } {
  return { start: search && n ? search.start % n : 0, limit: search?.feasibleToFind ?? n };
}

/**
 * placePodFully's answer for a simple pod (isSimplePod): its extra scores (preferred node and pod
 * affinity, spread) are 0 on every node, so a node's score is its least-allocated score; on a plain
 * node (nodeFacts) fitsNode's only filters that can fail are host ports (only when both the pod and
 * the node have some) and resources. Any other node, and any node that does not fit, is asked of
 * fitsNode itself (its reason counts). Reads the table's numbers (node-table.ts); the arithmetic is
 * resourcesShortfall's and leastAllocated's, on the same values.
 */
export function placeSimplePod(pod: Pod, table: NodeTable, search?: NodeSearch): PlacementResult {
  const reasons = new Map<string, number>();
  const n = table.size;
  const { start, limit } = bounds(n, search);
  const { cpuMillis: wantCpu, memoryBytes: wantMemory } = podRequests(pod);
  const hasPorts = cachedHostPorts(pod).length > 0;
  const { plain, hostPorts, allocPods, allocCpu, allocMemory, usedPods, usedCpu, usedMemory, names } = table;
  let feasible = 0;
  let best = -1;
  let bestScore = 0;
  let searched = 0;
  for (let i = start; searched < n && feasible < limit; searched++, i = i + 1 === n ? 0 : i + 1) {
    let score: number;
    const pods = usedPods[i]! + 1;
    const cpu = usedCpu[i]! + wantCpu;
    const memory = usedMemory[i]! + wantMemory;
    const capPods = allocPods[i]!;
    const capCpu = allocCpu[i]!;
    const capMemory = allocMemory[i]!;
    if (plain[i] && !(hasPorts && hostPorts[i]) && !(pods > capPods) && !(cpu > capCpu) && !(memory > capMemory)) {
      // leastAllocated: a missing (NaN) or zero capacity frees nothing
      score = (100 * ((capCpu ? Math.max(0, (capCpu - cpu) / capCpu) : 0) + (capMemory ? Math.max(0, (capMemory - memory) / capMemory) : 0)
        + (capPods ? Math.max(0, (capPods - pods) / capPods) : 0))) / 3;
    } else {
      const node = table.nodes[i]!;
      const fit = fitsNode(pod, node, table.usage[i]);
      if (!fit.fits) {
        reasons.set(fit.reason, (reasons.get(fit.reason) ?? 0) + 1);
        continue;
      }
      score = scoreNode(pod, node, table.usage[i]);
    }
    feasible++;
    if (best < 0 || score > bestScore || (score === bestScore && names[i]! < names[best]!)) {
      best = i;
      bestScore = score;
    }
  }
  return { ...(best >= 0 ? { node: names[best]! } : {}), reasons, nodeCount: n, searched };
}

/** Every filter and score for every node looked at. */
export function placePodFully(pod: Pod, nodes: readonly Node[], usage: UsageLookup, placed: readonly PlacedPod[] = [], search?: NodeSearch): PlacementResult {
  const reasons = new Map<string, number>();
  const relational = hasPodAffinity(pod) || placed.some((p) => hasPodAffinity(p.pod));
  const spread = spreadConstraintsOf(pod).length ? spreadView(pod, nodes, placed) : undefined;
  const feasible: Array<{ name: string; base: number; nodePref: number; podPref: number; spreadPenalty: number }> = [];
  const { start, limit } = bounds(nodes.length, search);
  let searched = 0;
  for (; searched < nodes.length && feasible.length < limit; searched++) {
    const node = nodes[(start + searched) % nodes.length]!;
    const name = node.metadata.name!;
    const used = usage.get(name);
    const fit = fitsNode(pod, node, used);
    const why = !fit.fits ? fit.reason : (relational ? podAffinityViolation(pod, node, placed) : undefined) ?? spread?.skew(node).violates;
    if (why) {
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
      continue;
    }
    feasible.push({
      name, base: scoreNode(pod, node, used), nodePref: preferredNodeAffinityWeight(pod, node),
      podPref: relational ? preferredPodAffinityScore(pod, node, placed) : 0, spreadPenalty: spread?.skew(node).penalty ?? 0,
    });
  }
  // each extra score is normalised to [0, 100] over the feasible nodes, then added to least-allocated
  const range = (f: (x: (typeof feasible)[number]) => number) => {
    const values = feasible.map(f);
    return { min: Math.min(...values), max: Math.max(...values) };
  };
  const norm = (v: number, r: { min: number; max: number }) => (r.max > r.min ? (100 * (v - r.min)) / (r.max - r.min) : 0);
  const nodePref = range((x) => x.nodePref);
  const podPref = range((x) => x.podPref);
  const spreadRange = range((x) => x.spreadPenalty);
  let best: { name: string; score: number } | undefined;
  for (const x of feasible) {
    const score = x.base + norm(x.nodePref, nodePref) + norm(x.podPref, podPref) + (100 - norm(x.spreadPenalty, spreadRange)) * Number(spreadRange.max > spreadRange.min);
    if (!best || score > best.score || (score === best.score && x.name < best.name)) best = { name: x.name, score };
  }
  return { ...(best ? { node: best.name } : {}), reasons, nodeCount: nodes.length, searched };
}
