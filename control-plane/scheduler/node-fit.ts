// Pure scheduling decisions: which nodes can take a pod (filters, with reasons) and which is best
// (least allocated). No I/O; the Scheduler feeds it nodes and the pods already bound to them.
import { parseBytes, parseMillicores } from '../../api/quantity.js';
import type { Node, Taint } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { isTerminalPhase } from '../../api/types/pod.js';

export interface NodeUsage {
  pods: number;
  cpuMillis: number;
  memoryBytes: number;
}

export type FitResult = { fits: true } | { fits: false; reason: string };

export interface Placement {
  node?: string;
  /** Reason -> number of nodes it excluded, for "0/3 nodes are available: ..." */
  reasons: Map<string, number>;
  nodeCount: number;
}

export function podRequests(pod: Pod): { cpuMillis: number; memoryBytes: number } {
  let cpuMillis = 0;
  let memoryBytes = 0;
  for (const c of pod.spec.containers) {
    const r = c.resources?.requests ?? c.resources?.limits ?? {};
    if (r['cpu']) cpuMillis += parseMillicores(r['cpu']);
    if (r['memory']) memoryBytes += parseBytes(r['memory']);
  }
  // init containers run one at a time before the app containers: the largest one counts
  for (const c of pod.spec.initContainers ?? []) {
    const r = c.resources?.requests ?? c.resources?.limits ?? {};
    if (r['cpu']) cpuMillis = Math.max(cpuMillis, parseMillicores(r['cpu']));
    if (r['memory']) memoryBytes = Math.max(memoryBytes, parseBytes(r['memory']));
  }
  return { cpuMillis, memoryBytes };
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
    usage.set(node, u);
  }
  return usage;
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

export function fitsNode(pod: Pod, node: Node, usage: NodeUsage | undefined): FitResult {
  if (!isReady(node)) return { fits: false, reason: 'node(s) were not ready' };
  if (node.spec.unschedulable) return { fits: false, reason: 'node(s) were unschedulable' };
  const taint = (node.spec.taints ?? []).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod, t));
  if (taint) return { fits: false, reason: `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}` };
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) {
    if (labels[k] !== v) return { fits: false, reason: "node(s) didn't match Pod's node affinity/selector" };
  }
  const allocatable = node.status?.allocatable ?? {};
  const used = usage ?? { pods: 0, cpuMillis: 0, memoryBytes: 0 };
  const want = podRequests(pod);
  if (allocatable['pods'] !== undefined && used.pods + 1 > Number(allocatable['pods'])) return { fits: false, reason: 'Too many pods' };
  if (allocatable['cpu'] !== undefined && used.cpuMillis + want.cpuMillis > parseMillicores(allocatable['cpu'])) return { fits: false, reason: 'Insufficient cpu' };
  if (allocatable['memory'] !== undefined && used.memoryBytes + want.memoryBytes > parseBytes(allocatable['memory'])) return { fits: false, reason: 'Insufficient memory' };
  return { fits: true };
}

/** Least-allocated score in [0, 100]: the mean free fraction of cpu, memory and pod slots. */
export function scoreNode(pod: Pod, node: Node, usage: NodeUsage | undefined): number {
  const a = node.status?.allocatable ?? {};
  const used = usage ?? { pods: 0, cpuMillis: 0, memoryBytes: 0 };
  const want = podRequests(pod);
  const free = (capacity: number, taken: number) => (capacity > 0 ? Math.max(0, (capacity - taken) / capacity) : 0);
  const parts = [
    free(a['cpu'] ? parseMillicores(a['cpu']) : 0, used.cpuMillis + want.cpuMillis),
    free(a['memory'] ? parseBytes(a['memory']) : 0, used.memoryBytes + want.memoryBytes),
    free(a['pods'] ? Number(a['pods']) : 0, used.pods + 1),
  ];
  return (100 * parts.reduce((x, y) => x + y, 0)) / parts.length;
}

export function placePod(pod: Pod, nodes: readonly Node[], usage: Map<string, NodeUsage>): Placement {
  const reasons = new Map<string, number>();
  let best: { name: string; score: number } | undefined;
  for (const node of nodes) {
    const name = node.metadata.name!;
    const fit = fitsNode(pod, node, usage.get(name));
    if (!fit.fits) {
      reasons.set(fit.reason, (reasons.get(fit.reason) ?? 0) + 1);
      continue;
    }
    const score = scoreNode(pod, node, usage.get(name));
    if (!best || score > best.score || (score === best.score && name < best.name)) best = { name, score };
  }
  return { ...(best ? { node: best.name } : {}), reasons, nodeCount: nodes.length };
}

/** The FailedScheduling message kubectl users know: "0/3 nodes are available: 2 Insufficient cpu, 1 ...". */
export function unschedulableMessage(placement: Placement): string {
  if (placement.nodeCount === 0) return 'no nodes available to schedule pods';
  const parts = [...placement.reasons].sort((a, b) => a[0].localeCompare(b[0])).map(([reason, n]) => `${n} ${reason}`);
  return `0/${placement.nodeCount} nodes are available: ${parts.join(', ')}.`;
}
