// Pure scheduling decisions: which nodes can take a pod (filters, with reasons: readiness, taints,
// node affinity, host ports, resources, pod affinity, topology spread) and which is best (least
// allocated, preferred affinities, spreading). No I/O; the Scheduler feeds it nodes and bound pods.
import { parseBytes, parseMillicores } from '../../api/quantity.js';
import type { Node, Taint } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { isTerminalPhase } from '../../api/types/pod.js';
import { podRequest } from '../../api/types/pod-requests.js';
import { matchesNodeAffinity, preferredNodeAffinityWeight } from '../resources/node-affinity.js';
import { hasPodAffinity, podAffinityViolation, preferredPodAffinityScore, type PlacedPod } from './pod-affinity.js';
import { spreadConstraintsOf, spreadView } from './topology-spread.js';

export interface NodeUsage {
  pods: number;
  cpuMillis: number;
  memoryBytes: number;
  /** "protocol/port" of the host ports its pods hold */
  hostPorts?: Set<string>;
}

export type FitResult = { fits: true } | { fits: false; reason: string };

export interface Placement {
  node?: string;
  /** Reason -> number of nodes it excluded, for "0/3 nodes are available: ..." */
  reasons: Map<string, number>;
  nodeCount: number;
}

/** Pod objects are replaced, never changed in place: parsing each one's quantities once keeps
 * usageByNode (run per scheduling decision over every pod) cheap. */
const requestsCache = new WeakMap<Pod, { cpuMillis: number; memoryBytes: number }>();

export function podRequests(pod: Pod): { cpuMillis: number; memoryBytes: number } {
  let cached = requestsCache.get(pod);
  if (!cached) requestsCache.set(pod, (cached = computePodRequests(pod)));
  return cached;
}

function computePodRequests(pod: Pod): { cpuMillis: number; memoryBytes: number } {
  return { cpuMillis: podRequest(pod, 'cpu'), memoryBytes: podRequest(pod, 'memory') };
}

/** What the pods bound to each node use (terminal pods release their resources). */
export function usageByNode(pods: readonly Pod[]): Map<string, NodeUsage> {
  const usage = new Map<string, NodeUsage>();
  for (const pod of pods) {
    const node = pod.spec.nodeName;
    if (!node || isTerminalPhase(pod.status?.phase)) continue;
    const u = usage.get(node) ?? { pods: 0, cpuMillis: 0, memoryBytes: 0 };
    const r = podRequests(pod);
    u.pods++;
    u.cpuMillis += r.cpuMillis;
    u.memoryBytes += r.memoryBytes;
    for (const port of cachedHostPorts(pod)) (u.hostPorts ??= new Set()).add(port);
    usage.set(node, u);
  }
  return usage;
}

const hostPortsCache = new WeakMap<Pod, string[]>();
function cachedHostPorts(pod: Pod): string[] {
  let ports = hostPortsCache.get(pod);
  if (!ports) hostPortsCache.set(pod, (ports = hostPortsOf(pod)));
  return ports;
}

export function hostPortsOf(pod: Pod): string[] {
  const out: string[] = [];
  for (const c of pod.spec.containers) for (const p of c.ports ?? []) if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostPort}`);
  return out;
}

const isReady = (node: Node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function tolerates(pod: Pod, taint: Taint): boolean {
  return (pod.spec.tolerations ?? []).some((t) => {
    const effect = t['effect'] as string | undefined;
    if (effect && effect !== taint.effect) return false;
    const key = t['key'] as string | undefined;
    if (t['operator'] === 'Exists') return !key || key === taint.key;
    return key === taint.key && (t['value'] ?? '') === (taint.value ?? '');
  });
}

/** Node objects are replaced, never changed in place: their allocatable is parsed once per version. */
const allocatableCache = new WeakMap<Node, { pods?: number; cpuMillis?: number; memoryBytes?: number }>();
function allocatableOf(node: Node): { pods?: number; cpuMillis?: number; memoryBytes?: number } {
  let cached = allocatableCache.get(node);
  if (!cached) {
    const a = node.status?.allocatable ?? {};
    cached = {
      ...(a['pods'] !== undefined ? { pods: Number(a['pods']) } : {}),
      ...(a['cpu'] !== undefined ? { cpuMillis: parseMillicores(a['cpu']) } : {}),
      ...(a['memory'] !== undefined ? { memoryBytes: parseBytes(a['memory']) } : {}),
    };
    allocatableCache.set(node, cached);
  }
  return cached;
}

/** What every decision reads of a node that only the node decides, once per node version (a decision looks at hundreds). */
const nodeViewCache = new WeakMap<Node, { ready: boolean; blockingTaints: Taint[] }>();
function nodeView(node: Node): { ready: boolean; blockingTaints: Taint[] } {
  let view = nodeViewCache.get(node);
  if (!view) {
    view = { ready: isReady(node), blockingTaints: (node.spec.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute') };
    nodeViewCache.set(node, view);
  }
  return view;
}

export function fitsNode(pod: Pod, node: Node, usage: NodeUsage | undefined): FitResult {
  const view = nodeView(node);
  if (!view.ready) return { fits: false, reason: 'node(s) were not ready' };
  if (node.spec.unschedulable) return { fits: false, reason: 'node(s) were unschedulable' };
  const taint = view.blockingTaints.length ? view.blockingTaints.find((t) => !tolerates(pod, t)) : undefined;
  if (taint) return { fits: false, reason: `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}` };
  if (!matchesNodeAffinity(pod, node)) return { fits: false, reason: "node(s) didn't match Pod's node affinity/selector" };
  if (usage?.hostPorts && hostPortsOf(pod).some((p) => usage.hostPorts!.has(p))) return { fits: false, reason: "node(s) didn't have free ports for the requested pod ports" };
  const allocatable = allocatableOf(node);
  const used = usage ?? { pods: 0, cpuMillis: 0, memoryBytes: 0 };
  const want = podRequests(pod);
  if (allocatable.pods !== undefined && used.pods + 1 > allocatable.pods) return { fits: false, reason: 'Too many pods' };
  if (allocatable.cpuMillis !== undefined && used.cpuMillis + want.cpuMillis > allocatable.cpuMillis) return { fits: false, reason: 'Insufficient cpu' };
  if (allocatable.memoryBytes !== undefined && used.memoryBytes + want.memoryBytes > allocatable.memoryBytes) return { fits: false, reason: 'Insufficient memory' };
  return { fits: true };
}

/** Least-allocated score in [0, 100]: the mean free fraction of cpu, memory and pod slots. */
export function scoreNode(pod: Pod, node: Node, usage: NodeUsage | undefined): number {
  const a = allocatableOf(node);
  const used = usage ?? { pods: 0, cpuMillis: 0, memoryBytes: 0 };
  const want = podRequests(pod);
  const free = (capacity: number | undefined, taken: number) => (capacity ? Math.max(0, (capacity - taken) / capacity) : 0);
  return (100 * (free(a.cpuMillis, used.cpuMillis + want.cpuMillis) + free(a.memoryBytes, used.memoryBytes + want.memoryBytes) + free(a.pods, used.pods + 1))) / 3;
}

/** Usage read by node name. */
export interface UsageLookup { get(node: string): NodeUsage | undefined }

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

/**
 * `placed`: bound pods with their nodes, needed only for pod affinity and topology spread.
 * `search`: look at nodes from `start` (wrapping) until `feasibleToFind` fit; `searched` says how many were looked at.
 */
export function placePod(pod: Pod, nodes: readonly Node[], usage: UsageLookup, placed: readonly PlacedPod[] = [], search?: NodeSearch): Placement & { searched: number } {
  const reasons = new Map<string, number>();
  const relational = hasPodAffinity(pod) || placed.some((p) => hasPodAffinity(p.pod));
  const spread = spreadConstraintsOf(pod).length ? spreadView(pod, nodes, placed) : undefined;
  const feasible: Array<{ name: string; base: number; nodePref: number; podPref: number; spreadPenalty: number }> = [];
  const start = search && nodes.length ? search.start % nodes.length : 0;
  const limit = search?.feasibleToFind ?? nodes.length;
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

/** The FailedScheduling message kubectl users know: "0/3 nodes are available: 2 Insufficient cpu, 1 ...". */
export function unschedulableMessage(placement: Placement): string {
  if (placement.nodeCount === 0) return 'no nodes available to schedule pods';
  const parts = [...placement.reasons].sort((a, b) => a[0].localeCompare(b[0])).map(([reason, n]) => `${n} ${reason}`);
  return `0/${placement.nodeCount} nodes are available: ${parts.join(', ')}.`;
}
