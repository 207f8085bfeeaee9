// The taint side of node lifecycle: keeps unreachable/not-ready NoExecute taints in step with each
// node's Ready condition (set by nodes/node-lifecycle.ts and the node registry), and evicts the pods
// on tainted nodes once their tolerationSeconds run out, at a limited rate. Their controllers then
// create replacements, which the scheduler places on healthy nodes.
import { NotFoundError } from '../../../api/errors.js';
import type { Node } from '../../../api/types/node.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { byName } from '../../reconcile/owned-objects.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';
import { planEvictions, planNodeTaints, RateLimiter } from './taint-plan.js';
import { ZoneStates } from './zone-states.js';

export interface NodeTaintOptions {
  /** Pod evictions per second across the cluster (Kubernetes: --node-eviction-rate). */
  evictionsPerSecond?: number;
  evictionBurst?: number;
  /** Evictions per second in a large, partially disrupted zone (Kubernetes: --secondary-node-eviction-rate, 0.01). */
  secondaryEvictionsPerSecond?: number;
  /** Kubernetes: --unhealthy-zone-threshold (0.55). */
  unhealthyZoneThreshold?: number;
  /** Kubernetes: --large-cluster-size-threshold (50). */
  largeClusterSizeThreshold?: number;
}

export class NodeTaintController extends Controller {
  /** One limiter per zone, at the rate its state allows (replaced when the rate changes). */
  readonly #limiters = new Map<string, { rate: number; limiter: RateLimiter }>();
  readonly #zones: ZoneStates;
  readonly #burst: number;
  /**
   * Nodes refused an eviction token, by zone, with the rate they were refused at. When the zone's
   * rate changes (a zone passing through PartialDisruption on its way to FullDisruption as its nodes
   * go NotReady one by one) they are looked at again at once, not when the old rate's wait ends
   * (up to 100 s at 0.01/s): Kubernetes swaps the zone's limiter and retries its queue every 100 ms.
   */
  readonly #waiting = new Map<string, { rate: number; nodes: Set<string> }>();

  constructor(ctx: ControllerContext, options: NodeTaintOptions = {}) {
    super(ctx, 'node-lifecycle-controller');
    this.#burst = options.evictionBurst ?? 10;
    this.#zones = new ZoneStates({
      primaryPerSecond: options.evictionsPerSecond ?? 10,
      secondaryPerSecond: options.secondaryEvictionsPerSecond ?? 0.01,
      unhealthyZoneThreshold: options.unhealthyZoneThreshold ?? 0.55,
      largeClusterSizeThreshold: options.largeClusterSizeThreshold ?? 50,
    });
  }

  start(): void {
    this.watch<Node>(resourceTypes.nodes, (type, node) => {
      this.#zones.observe(node.metadata.name!, type === 'DELETED' ? undefined : node);
      if (type !== 'DELETED') this.enqueue(node.metadata.name!);
      this.#wakeWaiting();
    });
    this.watch<Pod>(resourceTypes.pods, (type, pod) => {
      if (type === 'ADDED' && pod.spec.nodeName) this.enqueue(pod.spec.nodeName);
    });
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const { resources, clock } = this.ctx;
    let node = await resources.get<Node>(resourceTypes.nodes, undefined, name).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!node) return;
    if (planNodeTaints(node, clock.now())) {
      node = await resources.mutate<Node>(resourceTypes.nodes, undefined, name, (n) => {
        const taints = planNodeTaints(n, clock.now());
        return taints ? { ...n, spec: { ...n.spec, taints } } : undefined;
      });
    }
    if (!(node.spec.taints ?? []).some((t) => t.effect === 'NoExecute')) return;
    const pods = byName((await this.cache<Pod>(resourceTypes.pods)).byIndex('node', name));
    const plan = planEvictions(node, pods, clock.now());
    if (plan.evict.length) {
      this.#zones.observe(name, node); // the zone rules judge the node as read now
      this.#wakeWaiting();
    }
    for (const pod of plan.evict) {
      const rate = this.#zones.evictionRate(name);
      const token = this.#limiterFor(name, rate).take(clock.now());
      if (!token.ok) {
        this.#wait(name, rate);
        return { requeueAfterMs: token.waitMs };
      }
      await resources.delete(resourceTypes.pods, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
      this.recordEvent(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
    }
    if (plan.nextAtMs !== undefined) return { requeueAfterMs: Math.max(0, plan.nextAtMs - clock.now()) };
  }

  #wait(name: string, rate: number): void {
    const zone = this.#zones.zoneOfNode(name) ?? '';
    let waiting = this.#waiting.get(zone);
    if (!waiting || waiting.rate !== rate) this.#waiting.set(zone, waiting = { rate, nodes: new Set() });
    waiting.nodes.add(name);
  }

  /** Queues again the nodes of every zone whose eviction rate is no longer the one they were refused at. */
  #wakeWaiting(): void {
    for (const [zone, waiting] of this.#waiting) {
      const some = waiting.nodes.values().next().value;
      if (some !== undefined && this.#zones.evictionRate(some) === waiting.rate) continue;
      this.#waiting.delete(zone);
      for (const node of waiting.nodes) this.enqueue(node);
    }
  }

  /** The limiter of the node's zone at `rate`, the rate the zone's state allows (rate 0: none is ever free). */
  #limiterFor(name: string, rate: number): { take(nowMs: number): { ok: true } | { ok: false; waitMs: number } } {
    if (rate === 0) return { take: () => ({ ok: false, waitMs: ZONE_RECHECK_MS }) };
    const zone = this.#zones.zoneOfNode(name) ?? '';
    let held = this.#limiters.get(zone);
    if (!held || held.rate !== rate) {
      held = { rate, limiter: new RateLimiter(rate, this.#burst, this.ctx.clock.now()) };
      this.#limiters.set(zone, held);
    }
    return held.limiter;
  }
}

/** While a zone may not evict, its nodes are looked at again this often (Kubernetes: the 5 s monitor period). */
const ZONE_RECHECK_MS = 5_000;
