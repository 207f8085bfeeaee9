// The scheduler: binds each unscheduled pod to the best node that fits (node-fit.ts), from node and
// pod caches kept by watches. Pods wait in kube-scheduler's queue (scheduling-queue.ts: by priority,
// backed off after each failed try); pods no node fits are parked there and sent round again only by
// an event that may let them fit (node-change-hints.ts, pod-change-hints.ts, volume events for pods
// with claims) or after 5 minutes. Per-node figures are kept incrementally (node-aggregates.ts), so a
// decision costs O(nodes looked at), not O(pods in the cluster); placed pods are gathered only for
// pods (or bound pods) with pod affinity or topology spread.
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import { NotFoundError } from '../../api/errors.js';
import type { Node } from '../../api/types/node.js';
import { isTerminalPhase, type Pod } from '../../api/types/pod.js';
import { SharedInformers } from '../reconcile/shared-informers.js';
import type { WorkQueueObserver } from '../reconcile/work-queue.js';
import type { EventRecorder } from '../events/event-recorder.js';
import { POD_IP_ANNOTATION } from '../../api/pod-addresses.js';
import { withPodCondition } from '../../api/pod-conditions.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { NodeAggregates } from './node-aggregates.js';
import { domainsChanged, nodeChangeMayHelp, nodeChangeMayHelpPod } from './node-change-hints.js';
import { unschedulableMessage } from './node-fit.js';
import { PodAddressCursors } from './pod-address-cursors.js';
import { boundPodChange, boundPodChangeMayHelp, type BoundPodChange, type FreedNode } from './pod-change-hints.js';
import { NodeTable } from './node-table.js';
import { feasibleNodesToFind, isSimplePod, placePod, placeSimplePod } from './placement.js';
import { hasPodAffinity, type PlacedPod } from './pod-affinity.js';
import { podPriority } from './preemption.js';
import { tryPreemption } from './preemption-writes.js';
import { SchedulingQueue } from './scheduling-queue.js';
import { spreadConstraintsOf } from './topology-spread.js';
import { mountsClaims, podVolumeConstraints, selectNodeForClaims, volumeTypes } from './volume-filter.js';

const SCHEDULER_NAMES = new Set(['default-scheduler', 'skiff-scheduler']);

export interface SchedulerOptions {
  resources: ResourceStore;
  events: EventRecorder;
  clock: Clock;
  logger: Logger;
  observer?: SchedulerObserver;
  queueObserver?: WorkQueueObserver;
  /** The process's shared caches (the scheduler makes its own without). */
  informers?: SharedInformers;
}

/** How one try to place a pod ended: bound, no node fits, or an error (retried). */
export type ScheduleResult = 'scheduled' | 'unschedulable' | 'error';

/** Reports every scheduling attempt (control-plane/metrics/scheduler-metrics.ts). */
export interface SchedulerObserver {
  attempt(result: ScheduleResult, durationMs: number): void;
  /** Pods waiting for a node that fits (retried when the cluster changes). */
  unschedulablePods(count: number): void;
  /** Pods waiting out their back-off before their next try. */
  backoffPods?(count: number): void;
}

/** Bindings written at once while the next pods are placed. */
const MAX_BINDINGS = 64;

const podKey = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;

export class Scheduler {
  readonly #nodes = new Map<string, Node>();
  readonly #pods = new Map<string, Pod>();
  /** Pending pods whose placement counts placed pods (pod affinity, spread): only they can be helped
   * by a pod placed or relabelled, so a binding need not ask every waiting pod when there are none. */
  readonly #relationalPending = new Set<string>();
  readonly #lastFailure = new Map<string, string>();
  /** The nodes in #nodes' order with their figures (rebuilt after a node comes or goes; a changed
   * node or usage rewrites its slot), and where the next limited search starts. */
  #table: NodeTable | undefined;
  #nextStart = 0;
  readonly #aggregates = new NodeAggregates((node, usage) => this.#table?.setUsage(node, usage));
  /** Pods whose binding is being written, assumed bound meanwhile. */
  readonly #binding = new Map<string, Promise<void>>();
  readonly #queue: SchedulingQueue;
  readonly #addresses = new PodAddressCursors();
  #subscriptions: Array<() => void> = [];
  readonly informers: SharedInformers;
  readonly #ownsInformers: boolean;

  constructor(private readonly options: SchedulerOptions) {
    this.#ownsInformers = !options.informers;
    this.informers = options.informers ?? new SharedInformers(options);
    this.#queue = new SchedulingQueue({
      name: 'scheduler',
      process: (key) => this.#observed(key),
      priorityOf: (key) => {
        const pod = this.#pods.get(key);
        return pod ? podPriority(pod) : 0;
      },
      clock: options.clock,
      logger: options.logger,
      ...(options.queueObserver ? { observer: options.queueObserver } : {}),
      onCounts: (unschedulable, backingOff) => {
        options.observer?.unschedulablePods(unschedulable);
        options.observer?.backoffPods?.(backingOff);
      },
    });
  }

  start(): void {
    const { informers } = this;
    this.#subscriptions.push(informers.for<Node>(resourceTypes.nodes).subscribe((type, node) => {
      const name = node.metadata.name!;
      const old = this.#nodes.get(name);
      if (type === 'DELETED') {
        this.#nodes.delete(name);
        this.#addresses.forgetNode(name);
      } else this.#nodes.set(name, node);
      const isNew = type === 'DELETED' ? false : !old;
      if (type === 'DELETED' || !old || !this.#table?.replaceNode(node)) this.#table = undefined; // rebuilt at the next decision
      // only a change that may let a waiting pod fit sends the waiting pods round again
      const now = type === 'DELETED' ? undefined : node;
      if (nodeChangeMayHelp(old, now)) {
        const domains = domainsChanged(old, now);
        this.#queue.moveUnschedulable((key) => {
          const pod = this.#pods.get(key);
          return !pod || nodeChangeMayHelpPod(pod, now, this.#aggregates.usageFor(pod).get(name), domains, this.#aggregates.hasRelationalPods);
        });
      }
      if (type !== 'DELETED' && (isNew || old?.spec.podCIDR !== node.spec.podCIDR)) {
        for (const p of informers.for<Pod>(resourceTypes.pods).byIndex('node', name)) if (this.#needsPodIP(p)) this.#queue.add(podKey(p));
      }
    }));
    this.#subscriptions.push(informers.for<Pod>(resourceTypes.pods).subscribe((type, pod) => {
      const key = podKey(pod);
      const old = this.#pods.get(key);
      if (type === 'DELETED') {
        this.#pods.delete(key);
        this.#aggregates.update(key, undefined);
        this.#queue.forget(key);
        this.#lastFailure.delete(key);
        this.#relationalPending.delete(key);
        const wasBound = old?.spec.nodeName;
        if (wasBound) this.#boundPodChanged(old, undefined);
        // its address is free again: a pod of that node waiting for one may have it
        if (wasBound) for (const p of informers.for<Pod>(resourceTypes.pods).byIndex('node', wasBound)) if (this.#needsPodIP(p)) this.#queue.add(podKey(p));
        return;
      }
      // a binding being written stands (assumed) until its write lands or fails
      if (this.#binding.has(key)) return;
      this.#pods.set(key, pod);
      this.#aggregates.update(key, pod);
      if (!pod.spec.nodeName && (hasPodAffinity(pod) || spreadConstraintsOf(pod).length > 0)) this.#relationalPending.add(key);
      else this.#relationalPending.delete(key);
      if (pod.spec.nodeName) this.#boundPodChanged(old?.spec.nodeName ? old : undefined, pod);
      if (this.#needsScheduling(pod)) {
        // its own status writes (PodScheduled=False, a nominated node) do not send it round again
        if (!old || podSpecChanged(old, pod)) this.#queue.add(key);
      } else if (this.#needsPodIP(pod)) this.#queue.add(key);
      else if (!pod.spec.nodeName) this.#queue.forget(key); // being deleted, or not ours
    }));
    // a claim, volume or class that appears or changes may unblock pods waiting on their volumes
    for (const type of volumeTypes) {
      this.#subscriptions.push(informers.for(type).subscribe(() => {
        this.#queue.moveUnschedulable((key) => {
          const pod = this.#pods.get(key);
          return !pod || mountsClaims(pod);
        });
      }));
    }
  }

  stop(): void {
    for (const unsubscribe of this.#subscriptions) unsubscribe();
    this.#subscriptions = [];
    this.#queue.stop();
    if (this.#ownsInformers) this.informers.stop();
  }

  /** Resolves when no pod is waiting to be tried or being bound (benchmarks, tests). */
  async idle(): Promise<void> {
    for (;;) {
      await this.#queue.idle();
      if (this.#binding.size === 0) return;
      await Promise.all(this.#binding.values());
    }
  }

  /** Pods bound without the scheduler (a DaemonSet's, or created with spec.nodeName) still need an address. */
  #needsPodIP(pod: Pod): boolean {
    return Boolean(pod.spec.nodeName) && !pod.metadata.annotations?.[POD_IP_ANNOTATION] && !pod.metadata.deletionTimestamp
      && !isTerminalPhase(pod.status?.phase) && Boolean(this.#nodes.get(pod.spec.nodeName!)?.spec.podCIDR);
  }

  #needsScheduling(pod: Pod): boolean {
    return !pod.spec.nodeName && !pod.metadata.deletionTimestamp && SCHEDULER_NAMES.has(pod.spec.schedulerName ?? 'default-scheduler');
  }

  /** The one point where attempts are measured: pods that needed a node, however the try ended. */
  async #observed(key: string): Promise<'unschedulable' | undefined> {
    const observer = this.options.observer;
    const startedAt = performance.now(); // a measurement, not timed logic: no injected clock
    let result: ScheduleResult | undefined;
    try {
      result = await this.#schedule(key);
    } catch (error) {
      result = 'error';
      throw error;
    } finally {
      if (observer && result) observer.attempt(result, performance.now() - startedAt);
    }
    return result === 'unschedulable' ? 'unschedulable' : undefined;
  }

  /** A bound pod came, changed or went (old: its earlier bound version): the waiting pods it may help go round. */
  #boundPodChanged(old: Pod | undefined, now: Pod | undefined): void {
    const change = boundPodChange(old, now);
    if (!change) return;
    // a pod placed or relabelled helps only pods that count placed pods, or pods its anti-affinity kept out
    if (!change.freedOn && this.#relationalPending.size === 0 && !(change.gone && hasPodAffinity(change.gone))) return;
    const freed = this.#freedNode(change);
    this.#queue.moveUnschedulable((key) => {
      const pod = this.#pods.get(key);
      return !pod || boundPodChangeMayHelp(pod, change, freed);
    });
  }

  #freedNode(change: BoundPodChange): FreedNode | undefined {
    const node = change.freedOn ? this.#nodes.get(change.freedOn) : undefined;
    if (!node) return undefined;
    const name = node.metadata.name!;
    let lowest: number | undefined;
    return {
      node,
      usageFor: (pod) => this.#aggregates.usageFor(pod).get(name),
      lowestPriority: () => (lowest ??= Math.min(Infinity, ...[...this.informers.for<Pod>(resourceTypes.pods).byIndex('node', name)]
        .filter((p) => !isTerminalPhase(p.status?.phase)).map(podPriority))),
    };
  }

  /** Undefined when the key needed no placement (gone, bound already, or only an address to assign). */
  async #schedule(key: string): Promise<ScheduleResult | undefined> {
    const pod = this.#pods.get(key);
    if (pod && this.#needsPodIP(pod)) {
      await this.#assignPodIP(key, pod);
      return undefined;
    }
    if (!pod || !this.#needsScheduling(pod)) return undefined;
    const table = (this.#table ??= new NodeTable(this.#nodes.values(), this.#aggregates.usage));
    const nodes = table.nodes;
    const needsPlaced = hasPodAffinity(pod) || spreadConstraintsOf(pod).length > 0 || this.#aggregates.hasRelationalPods;
    const placed: PlacedPod[] = needsPlaced ? this.#placedPods() : [];
    const volumes = await podVolumeConstraints(pod, this.options.resources, this.#nodes);
    if (volumes.unresolvable) {
      await this.#markUnschedulable(pod, nodes.length ? `0/${nodes.length} nodes are available: ${volumes.unresolvable}.` : unschedulableMessage({ reasons: new Map(), nodeCount: 0 }));
      return 'unschedulable';
    }
    const volumeReasons = new Map<string, number>();
    const nodeReason = volumes.nodeReason;
    const usable = !nodeReason ? nodes : nodes.filter((n) => {
      const why = nodeReason(n);
      if (why) volumeReasons.set(why, (volumeReasons.get(why) ?? 0) + 1);
      return !why;
    });
    // nominated pods of at least this priority keep the room their victims leave
    const start = this.#nextStart;
    const usage = this.#aggregates.usageFor(pod);
    const search = { start, feasibleToFind: feasibleNodesToFind(usable.length) };
    // the kept table serves pods that ask only for room, of all nodes, with no nominated pod's room kept
    const placement = usable === nodes && usage === this.#aggregates.usage && isSimplePod(pod, placed)
      ? placeSimplePod(pod, table, search) : placePod(pod, usable, usage, placed, search);
    if (usable.length) this.#nextStart = (start + placement.searched) % usable.length;
    if (!placement.node) {
      for (const [why, n] of volumeReasons) placement.reasons.set(why, (placement.reasons.get(why) ?? 0) + n);
      const preemption = usable.length ? await tryPreemption(pod, usable, [...this.#pods.values()], this.#nodes.size, this.options) : undefined;
      await this.#markUnschedulable(pod, unschedulableMessage({ ...placement, nodeCount: nodes.length }) + (preemption ? ` preemption: ${preemption}` : ''));
      return 'unschedulable';
    }
    await selectNodeForClaims(this.options.resources, volumes.claimsToSelect, placement.node);
    const node = this.#nodes.get(placement.node)!;
    const podIP = node.spec.podCIDR ? this.#addresses.next(node, this.#aggregates.ipsInUse(placement.node)) : undefined;
    // assumed at once, so the next decision counts it; the binding is written while the next pods
    // are placed (kube-scheduler's binding cycle), at most MAX_BINDINGS at a time
    this.#assume(key, { ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, ...(podIP ? { [POD_IP_ANNOTATION]: podIP } : {}) } },
      spec: { ...pod.spec, nodeName: placement.node } });
    this.#lastFailure.delete(key);
    this.#binding.set(key, this.#bindInBackground(key, pod, placement.node, podIP));
    if (this.#binding.size >= MAX_BINDINGS) await Promise.race(this.#binding.values());
    return 'scheduled';
  }

  async #bindInBackground(key: string, pod: Pod, nodeName: string, podIP: string | undefined): Promise<void> {
    let failure: Error | undefined;
    try {
      await this.#bind(pod, nodeName, podIP);
      this.options.events.record({
        involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
        type: 'Normal', reason: 'Scheduled', component: 'default-scheduler', message: `Successfully assigned ${key} to ${nodeName}`,
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) failure = error as Error;
    } finally {
      this.#binding.delete(key);
      // the assumption gives way to what the cache holds now (the binding, or the pod as it was)
      const latest = this.informers.for<Pod>(resourceTypes.pods).getByKey(key);
      if (!latest) {
        this.#pods.delete(key);
        this.#aggregates.update(key, undefined);
      } else if (this.#pods.has(key)) {
        const assumed = this.#pods.get(key)!;
        this.#pods.set(key, latest);
        this.#aggregates.update(key, latest);
        // a binding that failed gives its node's room back
        if (failure && !latest.spec.nodeName) this.#boundPodChanged(assumed, undefined);
        if (failure) this.#queue.retryLater(key, failure);
        else if (this.#needsScheduling(latest) || this.#needsPodIP(latest)) this.#queue.add(key);
      }
    }
  }

  async #assignPodIP(key: string, pod: Pod): Promise<void> {
    const node = this.#nodes.get(pod.spec.nodeName!)!;
    const podIP = this.#addresses.next(node, this.#aggregates.ipsInUse(node.metadata.name!));
    if (!podIP) {
      const message = `no free pod IP in ${node.spec.podCIDR} on node ${node.metadata.name}`;
      if (this.#lastFailure.get(key) !== message) {
        this.#lastFailure.set(key, message);
        this.options.events.record({
          involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
          type: 'Warning', reason: 'FailedCreatePodSandBox', component: 'default-scheduler', message,
        });
      }
      return;
    }
    try {
      const updated = await this.options.resources.mutate<Pod>(resourceTypes.pods, pod.metadata.namespace, pod.metadata.name!, (p) =>
        p.metadata.annotations?.[POD_IP_ANNOTATION] || p.metadata.deletionTimestamp ? undefined
          : { ...p, metadata: { ...p.metadata, annotations: { ...p.metadata.annotations, [POD_IP_ANNOTATION]: podIP } } });
      this.#assume(key, updated);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  /** Bound pods on known nodes that still hold their room (for pod affinity and topology spread). */
  #placedPods(): PlacedPod[] {
    const placed: PlacedPod[] = [];
    for (const p of this.#pods.values()) {
      const node = p.spec.nodeName ? this.#nodes.get(p.spec.nodeName) : undefined;
      if (node && !isTerminalPhase(p.status?.phase)) placed.push({ pod: p, node });
    }
    return placed;
  }

  /** Takes a written pod as the cache's version before its watch event arrives. */
  #assume(key: string, pod: Pod): void {
    const old = this.#pods.get(key);
    if (!old) return; // deleted meanwhile: its event came first
    this.#pods.set(key, pod);
    this.#aggregates.update(key, pod);
    // placed now: pods waiting for it (pod affinity, spread) need not wait for its watch event
    if (pod.spec.nodeName && !old.spec.nodeName) this.#boundPodChanged(undefined, pod);
  }

  async #bind(pod: Pod, nodeName: string, podIP: string | undefined): Promise<Pod> {
    // the binding (spec.nodeName, set once), the pod's address and PodScheduled=True in one write, as
    // kube's pods/binding storage does: a second write per pod would double the store's work and
    // race the kubelet's first status write
    return this.options.resources.mutate<Pod>(resourceTypes.pods, pod.metadata.namespace, pod.metadata.name!, (p) => {
      if (p.spec.nodeName || p.metadata.deletionTimestamp) return undefined;
      const annotations = { ...p.metadata.annotations, ...(podIP ? { [POD_IP_ANNOTATION]: podIP } : {}) };
      return withPodCondition({ ...p, metadata: { ...p.metadata, annotations }, spec: { ...p.spec, nodeName } }, { type: 'PodScheduled', status: 'True' }, this.options.clock);
    }, { subresource: 'binding' });
  }

  async #markUnschedulable(pod: Pod, message: string): Promise<void> {
    const key = podKey(pod);
    if (this.#lastFailure.get(key) === message) return;
    this.#lastFailure.set(key, message);
    this.options.events.record({
      involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
      type: 'Warning', reason: 'FailedScheduling', component: 'default-scheduler', message,
    });
    await this.options.resources.mutate<Pod>(resourceTypes.pods, pod.metadata.namespace, pod.metadata.name!,
      (p) => withPodCondition(p, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }, this.options.clock), { subresource: 'status' })
      .catch((error: Error) => this.options.logger.debug({ err: error.message }, 'could not set PodScheduled=False'));
  }
}

/** A pending pod's change that may change where it fits (spec, labels, annotations; not its status). */
function podSpecChanged(old: Pod, pod: Pod): boolean {
  return old.spec !== pod.spec && JSON.stringify(old.spec) !== JSON.stringify(pod.spec)
    || JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})
    || JSON.stringify(old.metadata.annotations ?? {}) !== JSON.stringify(pod.metadata.annotations ?? {});
}
