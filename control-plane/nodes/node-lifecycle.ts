// The node lifecycle check: a node whose agent has gone silent for longer than the grace period
// (no lease, status or presence) becomes Ready=Unknown. After a control-plane start every node gets
// one full grace period before it can be judged.
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from '../../api/clock.js';
import type { Node } from '../../api/types/node.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import type { SharedInformers } from '../reconcile/shared-informers.js';
import type { NodeRegistry } from './node-registry.js';

export interface NodeLifecycleOptions {
  resources: ResourceStore;
  registry: NodeRegistry;
  clock: Clock;
  logger: Logger;
  /** node-monitor-grace-period */
  gracePeriodMs?: number;
  checkIntervalMs?: number;
  /** The process's shared caches: nodes are read from there instead of listing the store. */
  informers?: SharedInformers;
}

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
      const marked: string[] = [];
      for (const node of nodes) {
        const name = node.metadata.name!;
        const lastSeen = Math.max(this.options.registry.sessions.get(name)?.lastSeenMs ?? 0, this.#startedMs);
        if (now - lastSeen <= grace) continue;
        if (await this.options.registry.markUnknown(name, 'NodeStatusUnknown', 'Kubelet stopped posting node status.')) marked.push(name);
      }
      return marked;
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'node lifecycle check failed');
      return [];
    } finally {
      this.#checking = false;
    }
  }
}
