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

export interface NodeTaintOptions {
  /** Pod evictions per second across the cluster (Kubernetes: --node-eviction-rate). */
  evictionsPerSecond?: number;
  evictionBurst?: number;
}

export class NodeTaintController extends Controller {
  readonly #limiter: RateLimiter;

  constructor(ctx: ControllerContext, options: NodeTaintOptions = {}) {
    super(ctx, 'node-lifecycle-controller');
    this.#limiter = new RateLimiter(options.evictionsPerSecond ?? 10, options.evictionBurst ?? 10, ctx.clock.now());
  }

  start(): void {
    this.watch<Node>(resourceTypes.nodes, (type, node) => {
      if (type !== 'DELETED') this.enqueue(node.metadata.name!);
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
    for (const pod of plan.evict) {
      const token = this.#limiter.take(clock.now());
      if (!token.ok) return { requeueAfterMs: token.waitMs };
      await resources.delete(resourceTypes.pods, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
      this.recordEvent(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
    }
    if (plan.nextAtMs !== undefined) return { requeueAfterMs: Math.max(0, plan.nextAtMs - clock.now()) };
  }
}
