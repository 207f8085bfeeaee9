// Keeps Node and Lease objects in step with what agents say over the node channel: a node snapshot
// creates or refreshes its Node (with a pod CIDR), a lease message renews kube-node-lease/<node>
// (through the batching NodeLeaseWriter: decision 058), and a Will (offline presence of the node's
// current session) marks the node Ready=Unknown at once.
// Pod CIDRs come from the range allocator (pod-cidr-allocator.ts), seeded from the Nodes on first
// use and kept in step with every Node write of this process (a deleted Node frees its block).
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import { rfc3339 } from '../../api/clock.js';
import { NotFoundError } from '../../api/errors.js';
import type { LeaseMessage, NodeStatusMessage, PresenceMessage } from '../../api/mqtt/messages.js';
import type { Condition } from '../../api/types/meta.js';
import type { Node } from '../../api/types/node.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { PodCidrAllocator, type PodCidrSettings } from './pod-cidr-allocator.js';
import { UNSERVED_PORTS_ANNOTATION } from '../../api/unserved-ports.js';
import { INGRESS_PORTS_ANNOTATION, ingressPortsAnnotation } from '../../api/ingress/ingress-ports.js';
import { NodeLeaseWriter } from './node-lease-writer.js';

export { LEASE_NAMESPACE } from './node-lease-writer.js';

export interface NodeLeaseSettings {
  /** How long a lease renewal may wait in memory before it is written (decision 058). */
  flushIntervalMs?: number;
}

export interface NodeSession {
  sessionId: string;
  /** ms (control-plane clock) of the last message of any kind from the node */
  lastSeenMs: number;
}

export class NodeRegistry {
  /** The current session of each node, learned from its messages. */
  readonly sessions = new Map<string, NodeSession>();
  /** Serialises writes per node so status and lease updates never race each other. */
  readonly #chains = new Map<string, Promise<unknown>>();
  /** Each node's last snapshot, to restore its conditions when it renews after being Unknown. */
  readonly #lastStatus = new Map<string, NodeStatusMessage>();
  /** Nodes whose Ready condition this process last wrote or read as other than Unknown. */
  readonly #notUnknown = new Set<string>();
  /** Writes kube-node-lease/<node>; the owner starts and stops it. */
  readonly leases: NodeLeaseWriter;

  constructor(
    private readonly resources: ResourceStore,
    private readonly events: EventRecorder,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly podCidrs: PodCidrSettings = {},
    leaseSettings: NodeLeaseSettings = {},
  ) {
    // checked now: a bad --cluster-cidr fails the start, not the first registration
    new PodCidrAllocator(podCidrs);
    this.leases = new NodeLeaseWriter({ resources, clock, logger, ...leaseSettings });
  }

  #allocator: Promise<PodCidrAllocator> | undefined;

  /** The allocator, seeded once from the stored Nodes and then following every Node write. */
  podCidrAllocator(): Promise<PodCidrAllocator> {
    return this.#allocator ??= (async () => {
      const allocator = new PodCidrAllocator(this.podCidrs);
      // follow writes before listing: a Node written meanwhile is occupied twice, harmlessly
      this.resources.onWrite((type, kind, obj) => {
        if (type.plural !== resourceTypes.nodes.plural || type.group !== resourceTypes.nodes.group) return;
        const cidr = (obj as Node).spec?.podCIDR;
        if (kind === 'put') allocator.occupy(cidr);
        else allocator.release(cidr);
      });
      const nodes = await this.resources.list<Node>(resourceTypes.nodes);
      for (const n of nodes.items) allocator.occupy(n.spec?.podCIDR);
      return allocator;
    })().catch((error: unknown) => {
      this.#allocator = undefined;
      throw error;
    });
  }

  nodeStatus(node: string, message: NodeStatusMessage): Promise<void> {
    this.#seen(node, message.sessionId);
    return this.#serial(node, () => this.#applyStatus(node, message));
  }

  lease(node: string, message: LeaseMessage): Promise<void> {
    this.#seen(node, message.sessionId);
    this.leases.renew(node, { renewTime: message.renewTime, leaseDurationSeconds: message.leaseDurationSeconds });
    // a node this process has seen not Unknown since is not read again (no store read per lease)
    if (this.#notUnknown.has(node)) return Promise.resolve();
    return this.#serial(node, () => this.#renewedAfterUnknown(node));
  }

  presence(node: string, message: PresenceMessage): Promise<void> {
    if (message.online) {
      this.#seen(node, message.sessionId);
      return Promise.resolve();
    }
    const current = this.sessions.get(node);
    // a Will from an older session (the node already reconnected) says nothing about now
    if (current && current.sessionId !== message.sessionId) return Promise.resolve();
    return this.#serial(node, async () => {
      await this.markUnknown(node, 'NodeStatusUnknown', 'Agent disconnected from the broker (MQTT Will).');
    });
  }

  /** Sets every node condition to Unknown (lease expired or agent gone). */
  async markUnknown(node: string, reason: string, message: string): Promise<boolean> {
    let changed = false;
    try {
      await this.resources.mutate<Node>(resourceTypes.nodes, undefined, node, (n) => {
        const conditions = n.status?.conditions ?? [];
        this.#notUnknown.delete(node);
        if (conditions.find((c) => c.type === 'Ready')?.status === 'Unknown') return undefined;
        changed = true;
        const now = rfc3339(this.clock.now());
        const unknown = conditions.map((c): Condition => ({ ...c, status: 'Unknown', reason, message, lastTransitionTime: now }));
        // a node that never posted a Ready condition gets one (Kubernetes: NodeStatusNeverUpdated), so
        // the next lifecycle pass sees it Unknown instead of writing it again
        if (!conditions.some((c) => c.type === 'Ready')) {
          unknown.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastTransitionTime: now });
        }
        return { ...n, status: { ...n.status, conditions: unknown } };
      }, { subresource: 'status' });
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
    if (changed) {
      this.logger.warn({ node, reason }, 'node is NotReady');
      this.events.record({
        involvedObject: { kind: 'Node', apiVersion: 'v1', name: node, uid: node },
        type: 'Normal', reason: 'NodeNotReady', component: 'node-controller',
        message: `Node ${node} status is now: NodeNotReady (${message})`,
      });
    }
    return changed;
  }

  #seen(node: string, sessionId: string): void {
    this.sessions.set(node, { sessionId, lastSeenMs: this.clock.now() });
  }

  #serial<T>(node: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(node) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.#chains.set(node, next);
    void next.finally(() => {
      if (this.#chains.get(node) === next) this.#chains.delete(node);
    }).catch(() => undefined);
    return next;
  }

  async #applyStatus(node: string, message: NodeStatusMessage): Promise<void> {
    this.#lastStatus.set(node, message);
    let existing: Node | undefined;
    try {
      existing = await this.resources.get<Node>(resourceTypes.nodes, undefined, node);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    if (!existing) {
      existing = await this.#register(node, message);
    } else if (!existing.spec?.podCIDR) {
      // registered while the cluster CIDR was full: a block may have been freed since
      existing = await this.#assignPodCidr(existing);
    }
    // the node speaks for itself only: ports it could not bind, and the Ingress ports it serves (decision 075)
    const said = { [UNSERVED_PORTS_ANNOTATION]: unservedPortsAnnotation(message), [INGRESS_PORTS_ANNOTATION]: ingressPortsAnnotation(message.ingressPorts) };
    if (Object.entries(message.labels).some(([k, v]) => existing!.metadata.labels?.[k] !== v) || Object.entries(said).some(([k, v]) => existing!.metadata.annotations?.[k] !== v)) {
      existing = await this.resources.mutate<Node>(resourceTypes.nodes, undefined, node, (n) => {
        const annotations = { ...n.metadata.annotations };
        for (const [k, v] of Object.entries(said)) {
          if (v === undefined) delete annotations[k];
          else annotations[k] = v;
        }
        return { ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, ...message.labels }, annotations } };
      });
    }
    const wasReady = existing.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    await this.resources.mutate<Node>(resourceTypes.nodes, undefined, node, (n) => ({
      ...n,
      status: {
        ...n.status,
        capacity: message.capacity,
        allocatable: message.allocatable,
        addresses: message.addresses,
        nodeInfo: message.nodeInfo,
        conditions: mergeConditions(n.status?.conditions ?? [], message.conditions as Condition[], rfc3339(this.clock.now())),
        daemonEndpoints: { kubeletEndpoint: { Port: message.tunnelPort ?? 0 } },
      },
    }), { subresource: 'status' });
    if (message.conditions.find((c) => c.type === 'Ready')?.status !== 'Unknown') this.#notUnknown.add(node);
    const ready = message.conditions.find((c) => c.type === 'Ready')?.status === 'True';
    if (ready && !wasReady) {
      this.events.record({
        involvedObject: { kind: 'Node', apiVersion: 'v1', name: node, uid: node },
        type: 'Normal', reason: 'NodeReady', component: 'node-controller', message: `Node ${node} status is now: NodeReady`,
      });
    }
  }

  async #register(node: string, message: NodeStatusMessage): Promise<Node> {
    const allocator = await this.podCidrAllocator();
    const podCIDR = allocator.allocate();
    let created: Node;
    try {
      created = await this.resources.create<Node>(resourceTypes.nodes, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: node, labels: message.labels, annotations: { 'node.skiff.dev/agent': 'mqtt' } },
        spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
      });
    } catch (error) {
      allocator.release(podCIDR);
      throw error;
    }
    this.logger.info({ node, podCIDR }, 'node registered');
    this.events.record({
      involvedObject: { kind: 'Node', apiVersion: 'v1', name: node, uid: node },
      type: 'Normal', reason: 'RegisteredNode', component: 'node-controller', message: `Node ${node} event: Registered Node ${node} in Controller`,
    });
    if (!podCIDR) this.#cidrNotAvailable(node, allocator);
    return created;
  }

  /** Gives a Node without a pod CIDR one, if a block is free now. */
  async #assignPodCidr(existing: Node): Promise<Node> {
    const allocator = await this.podCidrAllocator();
    if (allocator.free === 0) return existing;
    const podCIDR = allocator.allocate()!;
    try {
      const updated = await this.resources.mutate<Node>(resourceTypes.nodes, undefined, existing.metadata.name!, (n) => (n.spec?.podCIDR ? undefined : {
        ...n, spec: { ...n.spec, podCIDR, podCIDRs: [podCIDR] },
      }));
      if (updated.spec?.podCIDR !== podCIDR) allocator.release(podCIDR);
      return updated;
    } catch (error) {
      allocator.release(podCIDR);
      throw error;
    }
  }

  /** As kube-controller-manager's range allocator says it (RecordNodeStatusChange). */
  #cidrNotAvailable(node: string, allocator: PodCidrAllocator): void {
    this.logger.warn({ node, clusterCidr: allocator.clusterCidr, nodeCidrMaskSize: allocator.nodeCidrMaskSize }, 'no pod CIDR left for the node');
    this.events.record({
      involvedObject: { kind: 'Node', apiVersion: 'v1', name: node, uid: node },
      type: 'Normal', reason: 'CIDRNotAvailable', component: 'cidrAllocator', message: `Node ${node} status is now: CIDRNotAvailable`,
    });
  }

  /** A node renewing again after its conditions went Unknown (lease expiry) is back. */
  async #renewedAfterUnknown(node: string): Promise<void> {
    const current = await this.resources.get<Node>(resourceTypes.nodes, undefined, node).catch(() => undefined);
    const last = this.#lastStatus.get(node);
    const unknown = current?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown';
    if (last && unknown) await this.#applyStatus(node, last);
    else if (current && !unknown) this.#notUnknown.add(node);
  }
}

/** The agent's conditions, keeping each one's lastTransitionTime while its status is unchanged. */
function mergeConditions(previous: Condition[], reported: Condition[], now: string): Condition[] {
  return reported.map((c) => {
    const before = previous.find((p) => p.type === c.type);
    return { ...c, lastHeartbeatTime: now, lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime ?? now : now };
  });
}

/** The ports a node could not bind, as its annotation's JSON value (undefined: none). */
function unservedPortsAnnotation(message: NodeStatusMessage): string | undefined {
  return message.unservedPorts?.length ? JSON.stringify(message.unservedPorts.map(({ port, service, code }) => ({ port, service, code }))) : undefined;
}
