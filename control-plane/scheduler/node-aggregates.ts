// What the scheduler needs to know about each node's pods, kept incrementally from pod events (as
// kube-scheduler's cache keeps NodeInfo): requested cpu and memory, pod count and host ports of the
// non-terminal pods bound there, the pod addresses in use, pods nominated there by preemption, and
// how many bound pods carry pod (anti-)affinity (only then does a decision need every placed pod).
// One pod event costs O(1); a decision reads a node's figures in O(1) instead of summing every pod.
import { isTerminalPhase, type Pod } from '../../api/types/pod.js';
import { POD_IP_ANNOTATION } from '../../api/pod-addresses.js';
import { podRequests, hostPortsOf, type NodeUsage, type UsageLookup } from './node-fit.js';
import { hasPodAffinity } from './pod-affinity.js';
import { podPriority } from './preemption.js';

/** What one pod adds to its node's figures. */
interface Contribution {
  node: string;
  counted: boolean;
  cpuMillis: number;
  memoryBytes: number;
  ports: string[];
  ip: string | undefined;
  relational: boolean;
}

interface NodeFigures extends NodeUsage {
  portCounts: Map<string, number>;
  /** address -> pods holding it (a duplicate must not free it for both) */
  ips: Map<string, number>;
}

const nominatedNode = (pod: Pod): string | undefined => (pod.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName || undefined;

const NO_IPS: ReadonlyMap<string, number> = new Map();

export class NodeAggregates {
  readonly #nodes = new Map<string, NodeFigures>();
  /** Told of each node whose figures changed (undefined: nothing counted there any more). */
  readonly #onChange: ((node: string, usage: NodeUsage | undefined) => void) | undefined;
  readonly #contributions = new Map<string, Contribution>();
  /** Unbound pods nominated to a node (waiting for their victims to go). */
  readonly #nominated = new Map<string, Pod>();
  #relationalPods = 0;

  constructor(onChange?: (node: string, usage: NodeUsage | undefined) => void) {
    this.#onChange = onChange;
  }

  /** The bound pods' usage by node (what usageFor gives a pod no nominated pod outranks). */
  get usage(): UsageLookup {
    return this.#nodes;
  }

  /** Records the pod's latest version (undefined: deleted). */
  update(key: string, pod: Pod | undefined): void {
    const old = this.#contributions.get(key);
    if (old) this.#apply(old, -1);
    this.#contributions.delete(key);
    this.#nominated.delete(key);
    if (!pod) return;
    const node = pod.spec.nodeName;
    if (!node) {
      if (nominatedNode(pod) && !pod.metadata.deletionTimestamp && !isTerminalPhase(pod.status?.phase)) this.#nominated.set(key, pod);
      return;
    }
    const counted = !isTerminalPhase(pod.status?.phase);
    const r = podRequests(pod);
    const c: Contribution = {
      node, counted, cpuMillis: r.cpuMillis, memoryBytes: r.memoryBytes, ports: counted ? hostPortsOf(pod) : [],
      ip: pod.metadata.annotations?.[POD_IP_ANNOTATION], relational: counted && hasPodAffinity(pod),
    };
    this.#contributions.set(key, c);
    this.#apply(c, 1);
  }

  #apply(c: Contribution, sign: 1 | -1): void {
    let f = this.#nodes.get(c.node);
    if (!f) this.#nodes.set(c.node, (f = { pods: 0, cpuMillis: 0, memoryBytes: 0, portCounts: new Map(), ips: new Map() }));
    if (c.ip) {
      const n = (f.ips.get(c.ip) ?? 0) + sign;
      if (n > 0) f.ips.set(c.ip, n);
      else f.ips.delete(c.ip);
    }
    if (c.relational) this.#relationalPods += sign;
    if (c.counted) {
      f.pods += sign;
      f.cpuMillis += sign * c.cpuMillis;
      f.memoryBytes += sign * c.memoryBytes;
      for (const port of c.ports) {
        const n = (f.portCounts.get(port) ?? 0) + sign;
        if (n > 0) f.portCounts.set(port, n);
        else f.portCounts.delete(port);
      }
      if (f.portCounts.size) f.hostPorts = new Set(f.portCounts.keys());
      else delete f.hostPorts;
    }
    if (f.pods === 0 && f.ips.size === 0 && f.portCounts.size === 0) this.#nodes.delete(c.node);
    this.#onChange?.(c.node, this.#nodes.get(c.node));
  }

  /** The pod addresses in use on a node (terminal pods keep theirs until deleted). */
  usedIPs(node: string): Iterable<string> {
    return this.#nodes.get(node)?.ips.keys() ?? [];
  }

  /** The same, to look addresses up in (kept up to date by each pod event: no set built per pick). */
  ipsInUse(node: string): { has(ip: string): boolean } {
    return this.#nodes.get(node)?.ips ?? NO_IPS;
  }

  /** True when some bound pod has pod (anti-)affinity: every decision must then look at placed pods. */
  get hasRelationalPods(): boolean {
    return this.#relationalPods > 0;
  }

  /**
   * Usage as `pod` must count it: bound pods, plus unbound pods nominated to a node whose priority
   * is at least `pod`'s (their victims' room is kept for them).
   */
  usageFor(pod: Pod): UsageLookup {
    const extra = new Map<string, NodeUsage>();
    for (const p of this.#nominated.values()) {
      if (p === pod || p.metadata.uid === pod.metadata.uid || podPriority(p) < podPriority(pod)) continue;
      const node = nominatedNode(p)!;
      const base = extra.get(node) ?? copy(this.#nodes.get(node));
      const r = podRequests(p);
      base.pods++;
      base.cpuMillis += r.cpuMillis;
      base.memoryBytes += r.memoryBytes;
      for (const port of hostPortsOf(p)) (base.hostPorts ??= new Set()).add(port);
      extra.set(node, base);
    }
    if (extra.size === 0) return this.#nodes;
    return { get: (node) => extra.get(node) ?? this.#nodes.get(node) };
  }
}

function copy(u: NodeUsage | undefined): NodeUsage {
  return { pods: u?.pods ?? 0, cpuMillis: u?.cpuMillis ?? 0, memoryBytes: u?.memoryBytes ?? 0, ...(u?.hostPorts ? { hostPorts: new Set(u.hostPorts) } : {}) };
}
