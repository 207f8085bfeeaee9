// Pure scheduling decisions about one node: can it take a pod (filters, with reasons: readiness,
// taints, node affinity, host ports, resources) and how well (least allocated). No I/O; the search
// over nodes (pod affinity, topology spread, the best node) is placement.ts.
import { parseBytes, parseMillicores } from '../../api/quantity.js';
import type { Node, Taint } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { isTerminalPhase } from '../../api/types/pod.js';
import { podRequest } from '../../api/types/pod-requests.js';
import { matchesNodeAffinity } from '../resources/node-affinity.js';

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
/** hostPortsOf, once per pod version. */
export function cachedHostPorts(pod: Pod): string[] {
  let ports = hostPortsCache.get(pod);
  if (!ports) hostPortsCache.set(pod, (ports = hostPortsOf(pod)));
  return ports;
}

export function hostPortsOf(pod: Pod): string[] {
  const out: string[] = [];
  for (const c of pod.spec.containers) for (const p of c.ports ?? []) if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostPort}`);
  return out;
}

export const isNodeReady = (node: Node): boolean => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function tolerates(pod: Pod, taint: Taint): boolean {
  return (pod.spec.tolerations ?? []).some((t) => {
    const effect = t['effect'] as string | undefined;
    if (effect && effect !== taint.effect) return false;
    const key = t['key'] as string | undefined;
    if (t['operator'] === 'Exists') return !key || key === taint.key;
    return key === taint.key && (t['value'] ?? '') === (taint.value ?? '');
  });
}

/** What the scheduler reads of a node alone, once per node version (Node objects are replaced,
 * never changed in place; a decision looks at hundreds of nodes). */
export interface NodeFacts {
  name: string;
  /** Ready, schedulable and without NoSchedule/NoExecute taints: only resources can keep a pod off it
   * (and host ports, and the pod's node affinity) */
  plain: boolean;
  ready: boolean;
  blockingTaints: Taint[];
  allocatable: Allocatable;
}

export interface Allocatable { pods: number | undefined; cpuMillis: number | undefined; memoryBytes: number | undefined }

const factsCache = new WeakMap<Node, NodeFacts>();
export function nodeFacts(node: Node): NodeFacts {
  let facts = factsCache.get(node);
  if (!facts) {
    const a = node.status?.allocatable ?? {};
    const ready = isNodeReady(node);
    const blockingTaints = (node.spec.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    facts = {
      name: node.metadata.name!, plain: ready && !node.spec.unschedulable && blockingTaints.length === 0, ready, blockingTaints,
      // one shape for every node (a missing figure is undefined, not absent): the search reads
      // these for hundreds of nodes per decision
      allocatable: {
        pods: a['pods'] !== undefined ? Number(a['pods']) : undefined,
        cpuMillis: a['cpu'] !== undefined ? parseMillicores(a['cpu']) : undefined,
        memoryBytes: a['memory'] !== undefined ? parseBytes(a['memory']) : undefined,
      },
    };
    factsCache.set(node, facts);
  }
  return facts;
}

const NO_USAGE: NodeUsage = { pods: 0, cpuMillis: 0, memoryBytes: 0 };

/** Why the node's free resources cannot take `want` (one more pod), or undefined when they can. */
export function resourcesShortfall(allocatable: Allocatable, usage: NodeUsage | undefined, want: { cpuMillis: number; memoryBytes: number }): string | undefined {
  const used = usage ?? NO_USAGE;
  if (allocatable.pods !== undefined && used.pods + 1 > allocatable.pods) return 'Too many pods';
  if (allocatable.cpuMillis !== undefined && used.cpuMillis + want.cpuMillis > allocatable.cpuMillis) return 'Insufficient cpu';
  if (allocatable.memoryBytes !== undefined && used.memoryBytes + want.memoryBytes > allocatable.memoryBytes) return 'Insufficient memory';
  return undefined;
}

export function fitsNode(pod: Pod, node: Node, usage: NodeUsage | undefined): FitResult {
  const facts = nodeFacts(node);
  if (!facts.ready) return { fits: false, reason: 'node(s) were not ready' };
  if (node.spec.unschedulable) return { fits: false, reason: 'node(s) were unschedulable' };
  const taint = facts.blockingTaints.length ? facts.blockingTaints.find((t) => !tolerates(pod, t)) : undefined;
  if (taint) return { fits: false, reason: `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}` };
  if (!matchesNodeAffinity(pod, node)) return { fits: false, reason: "node(s) didn't match Pod's node affinity/selector" };
  if (usage?.hostPorts && hostPortsOf(pod).some((p) => usage.hostPorts!.has(p))) return { fits: false, reason: "node(s) didn't have free ports for the requested pod ports" };
  const short = resourcesShortfall(facts.allocatable, usage, podRequests(pod));
  return short ? { fits: false, reason: short } : { fits: true };
}

/** Least-allocated score in [0, 100]: the mean free fraction of cpu, memory and pod slots. */
export function scoreNode(pod: Pod, node: Node, usage: NodeUsage | undefined): number {
  return leastAllocated(nodeFacts(node).allocatable, usage, podRequests(pod));
}

export function leastAllocated(a: Allocatable, usage: NodeUsage | undefined, want: { cpuMillis: number; memoryBytes: number }): number {
  const used = usage ?? NO_USAGE;
  const free = (capacity: number | undefined, taken: number) => (capacity ? Math.max(0, (capacity - taken) / capacity) : 0);
  return (100 * (free(a.cpuMillis, used.cpuMillis + want.cpuMillis) + free(a.memoryBytes, used.memoryBytes + want.memoryBytes) + free(a.pods, used.pods + 1))) / 3;
}

/** Usage read by node name. */
export interface UsageLookup { get(node: string): NodeUsage | undefined }

/** The FailedScheduling message kubectl users know: "0/3 nodes are available: 2 Insufficient cpu, 1 ...". */
export function unschedulableMessage(placement: Placement): string {
  if (placement.nodeCount === 0) return 'no nodes available to schedule pods';
  const parts = [...placement.reasons].sort((a, b) => a[0].localeCompare(b[0])).map(([reason, n]) => `${n} ${reason}`);
  return `0/${placement.nodeCount} nodes are available: ${parts.join(', ')}.`;
}
