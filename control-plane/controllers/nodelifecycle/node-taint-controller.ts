// The taint side of node lifecycle, as Kubernetes' node lifecycle controller and taint manager do it
// (decision 070): a node whose Ready condition is False or Unknown gets the matching NoSchedule taint
// at once, and the NoExecute taint when its zone's rate limit lets it through (zone-tainter.ts: one
// node per 1/rate seconds per zone, the rate following the zone's state: zone-states.ts); with every
// zone fully disrupted no node gets it and those that had it lose it. The pods on a NoExecute-tainted
// node are evicted as their tolerationSeconds run out, without a further limit. Their controllers
// then create replacements, which the scheduler places on healthy nodes.
// Two queues, as Kubernetes has two pipelines: the node queue writes NoSchedule taints and takes
// taints off (a lost zone puts a thousand nodes in it at once), the taint manager's queue writes the
// NoExecute taints the zones let through and evicts: those never wait behind the thousand.
// Only nodes with something to do are queued: a Ready node without managed taints (all but a few of
// 10,000, each changing every few seconds) costs an O(1) look at the event, no reconcile.
import type { ClockTimer } from '../../../api/clock.js';
import { NotFoundError } from '../../../api/errors.js';
import type { Node } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import type { Informer } from '../../reconcile/informer.js';
import { byName } from '../../reconcile/owned-objects.js';
import { WorkQueue, type ReconcileResult } from '../../reconcile/work-queue.js';
import { conditionTaintKey, hasManagedNoExecute, planEvictions, planNodeTaints } from './taint-plan.js';
import { ZoneStates, zoneOf } from './zone-states.js';
import { ZoneTainter } from './zone-tainter.js';

export interface NodeTaintOptions {
  /** Nodes tainted NoExecute per second per zone (Kubernetes: --node-eviction-rate, 0.1). */
  nodeEvictionRate?: number;
  /** The same in a large, partially disrupted zone (Kubernetes: --secondary-node-eviction-rate, 0.01). */
  secondaryNodeEvictionRate?: number;
  /** Kubernetes: --unhealthy-zone-threshold (0.55). */
  unhealthyZoneThreshold?: number;
  /** Kubernetes: --large-cluster-size-threshold (50). */
  largeClusterSizeThreshold?: number;
}

/** How often the zones are judged and their queues drained (Kubernetes: NodeEvictionPeriod, 100 ms). */
export const TAINT_PASS_MS = 100;
/**
 * Node writes in flight. Kubernetes runs 8 node workers, each write a quick round trip; here a write
 * waits for the store's batch on a loop that also carries thousands of agents (~200 ms a write in a
 * 3,000-agent zone loss, where 2 workers wrote 9 nodes a second): the writes of a lost zone go out
 * together and the store batches them (as the lifecycle's MARKS_IN_FLIGHT).
 */
const NODE_WORKERS = 32;
/** The taint manager's workers (Kubernetes: 8): a few nodes a second at most, each with its evictions. */
const TAINT_MANAGER_WORKERS = 8;

export class NodeTaintController extends Controller {
  readonly #zones: ZoneStates;
  readonly #tainter: ZoneTainter;
  /** Nodes let through by their zone's rate limit: they carry (or are getting) the NoExecute taint. */
  readonly #admitted = new Set<string>();
  /** Every zone fully disrupted: no NoExecute taints anywhere (Kubernetes' "master disruption mode"). */
  #allDown = false;
  #timer: ClockTimer | undefined;
  #nodes: Informer<Node> | undefined;
  /** NoExecute taints let through, and evictions from NoExecute-tainted nodes (Kubernetes: the taint manager). */
  readonly #taintManager: WorkQueue;

  constructor(ctx: ControllerContext, options: NodeTaintOptions = {}) {
    super(ctx, 'node-lifecycle-controller', NODE_WORKERS);
    this.#taintManager = new WorkQueue({
      name: 'node-taint-manager', reconcile: (key) => this.#noExecute(key), clock: ctx.clock, logger: ctx.logger, workers: TAINT_MANAGER_WORKERS,
      ...(ctx.queueObserver ? { observer: ctx.queueObserver } : {}),
    });
    const primary = options.nodeEvictionRate ?? 0.1;
    this.#zones = new ZoneStates({
      primaryPerSecond: primary,
      secondaryPerSecond: options.secondaryNodeEvictionRate ?? 0.01,
      unhealthyZoneThreshold: options.unhealthyZoneThreshold ?? 0.55,
      largeClusterSizeThreshold: options.largeClusterSizeThreshold ?? 50,
    });
    this.#tainter = new ZoneTainter(primary);
  }

  start(): void {
    this.#nodes = this.informers.for<Node>(resourceTypes.nodes);
    this.watch<Node>(resourceTypes.nodes, (type, node) => this.#observe(node.metadata.name!, type === 'DELETED' ? undefined : node));
    this.watch<Pod>(resourceTypes.pods, (type, pod) => {
      // a pod bound to a node that already has a NoExecute taint (the taint manager's pod handler)
      if (type !== 'ADDED' || !pod.spec.nodeName) return;
      const node = this.#nodes?.get(undefined, pod.spec.nodeName);
      if (node && hasNoExecute(node)) this.#taintManager.add(pod.spec.nodeName);
    });
    this.#timer = this.ctx.clock.setInterval(() => this.pass(), TAINT_PASS_MS);
  }

  override stop(): void {
    this.#timer?.cancel();
    this.#taintManager.stop();
    super.stop();
  }

  override async idle(): Promise<void> {
    await Promise.all([super.idle(), this.#taintManager.idle()]);
  }

  /** Nodes waiting for their zone's rate limit (metrics, tests). */
  get waitingForTaint(): number {
    return this.#tainter.queued;
  }

  /** A node event: zone counts, the node's place in its zone's queue, and a reconcile if its taints must change. */
  #observe(name: string, node: Node | undefined): void {
    this.#zones.observe(name, node);
    if (!node) {
      this.#tainter.remove(name);
      this.#admitted.delete(name);
      return;
    }
    if (!conditionTaintKey(node)) {
      // Ready (or no Ready condition yet): out of the queue, and its managed taints go at once
      this.#tainter.remove(name);
      this.#admitted.delete(name);
    } else if (hasManagedNoExecute(node) && !this.#allDown) {
      this.#admitted.add(name); // tainted already (by us before, or before a restart)
    } else if (!this.#admitted.has(name)) {
      this.#tainter.add(zoneOf(node), name, this.ctx.clock.now());
    }
    const admitted = this.#admitted.has(name);
    if (admitted || hasNoExecute(node)) this.#taintManager.add(name);
    else if (planNodeTaints(node, this.ctx.clock.now(), false)) this.enqueue(name);
  }

  /**
   * Judges the zones and lets through what their rate limits allow (Kubernetes: handleDisruption, then
   * doNoExecuteTaintingPass). Every TAINT_PASS_MS on the clock; public for tests.
   */
  pass(): void {
    const now = this.ctx.clock.now();
    const allDown = this.#zones.allFullyDisrupted();
    if (allDown && !this.#allDown) {
      this.ctx.logger.warn('every zone is fully disrupted: no NoExecute taints until a node is Ready again');
      // the tainted nodes lose their taint (Kubernetes: markNodeAsReachable) and wait in their queues again
      for (const name of this.#admitted) {
        const node = this.#nodes?.get(undefined, name);
        if (node) this.#tainter.add(zoneOf(node), name, now);
        this.enqueue(name);
      }
      this.#admitted.clear();
    }
    this.#allDown = allDown;
    const zones = new Set(this.#zones.zones());
    for (const zone of zones) this.#tainter.swap(zone, this.#zones.rateOf(zone), now);
    this.#tainter.forgetZonesBut(zones);
    this.#tainter.take(now, (name) => {
      const node = this.#nodes?.get(undefined, name);
      if (!node || !conditionTaintKey(node)) return; // Ready again meanwhile: the token is spent, as in Kubernetes
      this.#admitted.add(name);
      this.#taintManager.add(name);
    });
  }

  /** The node queue: the node's taints as its condition wants them, NoExecute only if let through. */
  async reconcile(name: string): Promise<ReconcileResult | void> {
    const node = (await this.cache<Node>(resourceTypes.nodes)).get(undefined, name);
    if (node) await this.#writeTaints(node);
  }

  /** The taint manager: the NoExecute taint the zone let through, then the evictions it calls for. */
  async #noExecute(name: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    let node = (await this.cache<Node>(resourceTypes.nodes)).get(undefined, name);
    if (!node) return;
    node = await this.#writeTaints(node);
    if (!node || !hasNoExecute(node)) return;
    const pods = byName((await this.cache<Pod>(resourceTypes.pods)).byIndex('node', name));
    const plan = planEvictions(node, pods, clock.now());
    for (const pod of plan.evict) {
      await resources.delete(resourceTypes.pods, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
      this.recordEvent(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
    }
    if (plan.nextAtMs !== undefined) return { requeueAfterMs: Math.max(0, plan.nextAtMs - clock.now()) };
  }

  /** Writes the node's taints if they are not what they should be; the node as it is then (undefined: gone). */
  async #writeTaints(node: Node): Promise<Node | undefined> {
    const { resources, clock } = this.ctx;
    const name = node.metadata.name!;
    if (!planNodeTaints(node, clock.now(), this.#admitted.has(name))) return node;
    try {
      return await resources.mutate<Node>(resourceTypes.nodes, undefined, name, (n) => {
        const taints = planNodeTaints(n, clock.now(), this.#admitted.has(name));
        return taints ? { ...n, spec: { ...n.spec, taints } } : undefined;
      });
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }
}

const hasNoExecute = (node: Node) => (node.spec.taints ?? []).some((t) => t.effect === 'NoExecute');
