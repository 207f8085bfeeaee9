// Deleted Nodes leave nothing retained on the broker (issue 13): a Node deleted (kubectl delete
// node, a fleet shrinking) is "gone", and the desired publisher's reconcile of its keys clears its
// topics (desired state, policies part, the agent's presence) instead of publishing, until a Node of
// that name exists again. A starting control plane asks the broker which nodes it retains anything
// for (an external broker outlives it) and treats those without a Node as gone too.
// A name that is not one topic level (wildcards, '/', too long) cannot have anything retained (every
// publish requires one level): it is dropped, never turned into a topic of another node.
import type { Logger } from 'pino';
import { NotFoundError } from '../../api/errors.js';
import { isTopicLevel } from '../../api/mqtt/topic-level.js';
import type { Node } from '../../api/types/node.js';
import type { NodeChannel, RetainedNodeTopic } from '../node-channel/node-channel.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';

export interface GoneNodesOptions {
  channel: NodeChannel;
  resources: ResourceStore;
  logger: Logger;
}

export class GoneNodes {
  /** Names whose Node was deleted (or never existed while the broker held something for them). */
  readonly #gone = new Set<string>();

  constructor(private readonly options: GoneNodesOptions) {}

  get size(): number {
    return this.#gone.size;
  }

  /** A Node was deleted: the next reconcile of its keys clears its topics. */
  deleted(node: string): void {
    this.#gone.add(node);
  }

  /** A Node of that name exists (again): its keys publish as usual. */
  added(node: string): void {
    this.#gone.delete(node);
  }

  /**
   * For a gone node, clears `kinds` of its retained topics and returns true (the caller publishes
   * nothing); false when the node is not gone, or its Node exists again (the caller publishes).
   */
  async clear(node: string, kinds: readonly RetainedNodeTopic[]): Promise<boolean> {
    if (!this.#gone.has(node)) return false;
    if (!isTopicLevel(node)) {
      this.options.logger.warn({ node: node.slice(0, 300) }, 'a deleted node name that is no topic level: nothing of it can be retained');
      return true;
    }
    if (await this.#exists(node)) {
      this.#gone.delete(node);
      return false;
    }
    await this.options.channel.clearRetained(node, kinds);
    this.options.logger.debug({ node, kinds }, 'cleared the retained messages of a deleted node');
    return true;
  }

  /**
   * The nodes the broker retains something for whose Node `exists` does not know: marked gone and
   * returned (their keys are to be queued).
   */
  async sweep(exists: (node: string) => boolean): Promise<string[]> {
    const gone = [...await this.options.channel.retainedNodes()].filter((node) => !exists(node));
    for (const node of gone) this.#gone.add(node);
    if (gone.length > 0) this.options.logger.info({ nodes: gone.length }, 'clearing retained messages of nodes deleted while the control plane was down');
    return gone;
  }

  async #exists(node: string): Promise<boolean> {
    try {
      await this.options.resources.get<Node>(resourceTypes.nodes, undefined, node);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }
}
