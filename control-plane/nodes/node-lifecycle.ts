// The node lifecycle check: a node whose agent has gone silent for longer than the grace period
// (no lease, status or presence) becomes Ready=Unknown. After a control-plane start every node gets
// one full grace period before it can be judged.
// One pass marks every silent node within one monitor period, however many there are: the writes go
// out together (up to MARKS_IN_FLIGHT at once, so the store batches them), a node that cannot be
// written does not hold back the others, and a node already Unknown costs no store read.
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from '../../api/clock.js';
import type { Node } from '../../api/types/node.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import type { SharedInformers } from '../reconcile/shared-informers.js';
import type { NodeRegistry } from './node-registry.js';

export interface NodeLifecycleOptions {
  resources: ResourceStore;
  /** When each node was last heard from, and the write that marks one Unknown. */
  registry: Pick<NodeRegistry, 'sessions' | 'markUnknown'>;
  clock: Clock;
  logger: Logger;
  /** node-monitor-grace-period */
  gracePeriodMs?: number;
  checkIntervalMs?: number;
  /** The process's shared caches: nodes are read from there instead of listing the store. */
  informers?: SharedInformers;
}

/** Node writes one pass keeps in flight: enough for the store to batch, few enough to bound memory. */
export const MARKS_IN_FLIGHT = 256;

const readyStatus = (node: Node) => node.status?.conditions?.find((c) => c.type === 'Ready')?.status;

export class NodeLifecycle {
  readonly #startedMs: number;
  #timer: ClockTimer | undefined;
  #checking = false;

  constructor(private readonly options: NodeLifecycleOptions) {
    this.#startedMs = options.clock.now();
  }

  start(): void {
    this.#timer = this.options.clock.setInterval(() => void this.check(), this.options.checkIntervalMs ?? 5_000);
  }

  stop(): void {
    this.#timer?.cancel();
  }

  /** Marks silent nodes Unknown; returns the names it marked. */
  async check(): Promise<string[]> {
    if (this.#checking) return [];
    this.#checking = true;
    try {
      const now = this.options.clock.now();
      const grace = this.options.gracePeriodMs ?? 40_000;
      const informer = this.options.informers?.for<Node>(resourceTypes.nodes);
      if (informer) await informer.synced();
      const nodes = informer ? informer.list() : (await this.options.resources.list<Node>(resourceTypes.nodes)).items;
      const silent: string[] = [];
      for (const node of nodes) {
        const name = node.metadata.name!;
        const lastSeen = Math.max(this.options.registry.sessions.get(name)?.lastSeenMs ?? 0, this.#startedMs);
        // already Unknown (as the cache has it): nothing to write; markUnknown would only read it again
        if (now - lastSeen > grace && readyStatus(node) !== 'Unknown') silent.push(name);
      }
      return await this.#markAll(silent);
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'node lifecycle check failed');
      return [];
    } finally {
      this.#checking = false;
    }
  }

  async #markAll(names: string[]): Promise<string[]> {
    const marked: string[] = [];
    const failed: Array<{ node: string; err: string }> = [];
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const node = names[next++]!;
        try {
          if (await this.options.registry.markUnknown(node, 'NodeStatusUnknown', 'Kubelet stopped posting node status.')) marked.push(node);
        } catch (error) {
          failed.push({ node, err: (error as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(MARKS_IN_FLIGHT, names.length) }, worker));
    // tried again at the next pass: the node is still silent
    if (failed.length) this.options.logger.warn({ failed: failed.length, first: failed[0] }, 'node lifecycle could not mark nodes Unknown');
    return marked;
  }
}
