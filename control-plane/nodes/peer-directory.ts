// Which node owns a pod IP, for on-demand peers (decision 043, api/peer-lookup.ts): every Node's
// peer entry indexed by its pod CIDR block, kept in step with the nodes informer. A lookup masks
// the address with each block size in use (one in practice: --node-cidr-mask-size; hand-written
// Nodes may bring others) and reads one map entry: O(prefix lengths), never a pass over the nodes.
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import type { Node } from '../../api/types/node.js';
import { ipv4ToNumber, parseIpv4Block } from '../../api/pod-addresses.js';
import type { Informer } from '../reconcile/informer.js';
import { desiredPeers } from './desired-peers.js';

export class PeerDirectory {
  /** prefix length -> block base -> the node's entry. */
  readonly #blocks = new Map<number, Map<number, DesiredPeer>>();
  /** node name -> where it is indexed (to drop its old block when its pod CIDR changes). */
  readonly #byNode = new Map<string, { prefix: number; base: number }>();

  /** Follows `informer` (replaying what it holds); returns the unsubscribe function. */
  follow(informer: Informer<Node>): () => void {
    return informer.subscribe((type, node) => {
      if (type === 'DELETED') this.remove(node.metadata.name);
      else this.put(node);
    });
  }

  /** A Node as it is now. */
  put(node: Node): void {
    const name = node.metadata.name;
    if (!name) return;
    this.remove(name);
    const entry = desiredPeers([node])[0];
    const block = parseIpv4Block(entry?.podCIDR);
    if (!entry || !block || block.prefix < 8) return;
    let blocks = this.#blocks.get(block.prefix);
    if (!blocks) this.#blocks.set(block.prefix, blocks = new Map());
    // two Nodes claiming one block (hand-written): the last written answers, as the peers part's table would be ambiguous anyway
    blocks.set(block.base, entry);
    this.#byNode.set(name, { prefix: block.prefix, base: block.base });
  }

  remove(name: string | undefined): void {
    if (!name) return;
    const at = this.#byNode.get(name);
    if (!at) return;
    this.#byNode.delete(name);
    const blocks = this.#blocks.get(at.prefix);
    if (blocks?.get(at.base)?.node === name) blocks.delete(at.base);
    if (blocks?.size === 0) this.#blocks.delete(at.prefix);
  }

  get size(): number {
    return this.#byNode.size;
  }

  /** The node whose pod CIDR holds `ip` (a valid dotted IPv4 address), if any. */
  owner(ip: string): DesiredPeer | undefined {
    const n = ipv4ToNumber(ip);
    for (const [prefix, blocks] of this.#blocks) {
      const size = 2 ** (32 - prefix);
      const peer = blocks.get(n - (n % size));
      if (peer) return peer;
    }
    return undefined;
  }
}
