// Which nodes a NetworkPolicy input change (a pod, a namespace's labels, a policy) republishes: the
// policies are compiled once per change (desired-policies.ts), each node's part is compared with
// the one its last desired state carried, and only the nodes whose part differs are queued. A pod
// change in a cluster with policies used to reconcile every node (listing its pods, resolving its
// images) to find, most of the time, that nothing of its desired state had changed.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { DesiredNetworkPolicy } from '../../api/mqtt/messages.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { policiesForNode, readNetworkPolicies, type CompiledPolicy } from './desired-policies.js';

const hashOf = (policies: readonly DesiredNetworkPolicy[]) => createHash('sha256').update(JSON.stringify(policies)).digest('hex');
const NONE = hashOf([]);

export interface PolicyNodesOptions {
  resources: ResourceStore;
  /** The nodes that have been published (those whose part is compared). */
  nodes: () => Iterable<string>;
  /** Queues a node's desired state to be published again. */
  requeue: (node: string) => void;
  logger: Logger;
}

export class PolicyNodes {
  #compiled: Promise<CompiledPolicy[]> | undefined;
  /** node -> hash of the policies its last desired state carried */
  readonly #sent = new Map<string, string>();
  /** The NetworkPolicies that exist (`namespace/name`). */
  readonly #keys = new Set<string>();
  #rechecking: Promise<void> | undefined;
  #again = false;

  constructor(private readonly options: PolicyNodesOptions) {}

  /** Whether any NetworkPolicy exists (without any, pods and namespaces are no policy input). */
  get any(): boolean {
    return this.#keys.size > 0;
  }

  /** A NetworkPolicy was added, changed or deleted. */
  policyChanged(key: string, deleted: boolean): void {
    if (deleted) this.#keys.delete(key);
    else this.#keys.add(key);
    this.changed();
  }

  /** An input of the compiled policies changed: compile again and queue the nodes whose part differs. */
  changed(): void {
    this.#compiled = undefined;
    this.#recheck();
  }

  /** The cluster's policies compiled for the current inputs (one compile per change). */
  current(): Promise<CompiledPolicy[]> {
    if (!this.#compiled) {
      const compiled = readNetworkPolicies(this.options.resources);
      compiled.catch(() => {
        if (this.#compiled === compiled) this.#compiled = undefined; // the next one reads again
      });
      this.#compiled = compiled;
    }
    return this.#compiled;
  }

  /** Whether `compiled` (from current()) is no longer the current compile: its user must run again. */
  stale(compiled: Promise<CompiledPolicy[]>): boolean {
    return this.#compiled !== compiled;
  }

  /** The policies `node`'s desired state now carries. */
  carried(node: string, policies: readonly DesiredNetworkPolicy[]): void {
    this.#sent.set(node, hashOf(policies));
  }

  /** `node` is gone: nothing is carried for it any more. */
  forget(node: string): void {
    this.#sent.delete(node);
  }

  /** Resolves once the nodes of the changes so far are queued. */
  async settled(): Promise<void> {
    while (this.#rechecking) await this.#rechecking;
  }

  #recheck(): void {
    if (this.#rechecking) {
      this.#again = true;
      return;
    }
    this.#rechecking = this.#queueChanged().finally(() => {
      this.#rechecking = undefined;
    });
  }

  async #queueChanged(): Promise<void> {
    try {
      do {
        this.#again = false;
        const compiled = await this.current();
        if (this.#again) continue; // changed meanwhile: compile again first
        for (const node of this.options.nodes()) {
          if (hashOf(policiesForNode(compiled, node)) !== (this.#sent.get(node) ?? NONE)) this.options.requeue(node);
        }
      } while (this.#again);
    } catch (error) {
      // cannot tell which nodes changed: every node reads the policies again
      this.options.logger.warn({ err: (error as Error).message }, 'could not compile the NetworkPolicies; republishing every node');
      for (const node of this.options.nodes()) this.options.requeue(node);
    }
  }
}
