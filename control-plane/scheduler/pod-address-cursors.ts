// Which address of its node's pod CIDR a pod gets: the next free one after the address handed out
// last on that node, wrapping round at the end of the block (a next-fit scan, as kube's range
// allocators do), so an address freed by a deleted pod is not handed out again at once while others
// are free. What is in use is NodeAggregates' per-node address map, kept by pod events; a pick looks
// at addresses from the cursor on until one is free, with no set of the node's addresses built per
// pick. The block's first two addresses (network, gateway) and its last (broadcast) are never given.
import { MAX_NODE_CIDR_MASK_SIZE, numberToIpv4, parseIpv4Block } from '../../api/pod-addresses.js';
import type { Node } from '../../api/types/node.js';

interface Cursor {
  cidr: string;
  /** The block's first and last usable addresses, as numbers (first > last: none). */
  first: number;
  last: number;
  /** Where the next scan starts. */
  next: number;
}

export class PodAddressCursors {
  readonly #cursors = new Map<string, Cursor>();

  /** A free address of the node's pod CIDR, or undefined when the node has none (or no valid CIDR). */
  next(node: Node, inUse: { has(ip: string): boolean }): string | undefined {
    const name = node.metadata.name!;
    const cidr = node.spec.podCIDR;
    if (!cidr) return undefined;
    let cursor = this.#cursors.get(name);
    if (!cursor || cursor.cidr !== cidr) {
      const block = parseIpv4Block(cidr);
      if (!block || block.prefix > MAX_NODE_CIDR_MASK_SIZE) return undefined;
      const first = block.base + 2;
      cursor = { cidr, first, last: block.base + 2 ** (32 - block.prefix) - 2, next: first };
      this.#cursors.set(name, cursor);
    }
    const size = cursor.last - cursor.first + 1;
    for (let i = 0; i < size; i++) {
      const n = cursor.next;
      cursor.next = n >= cursor.last ? cursor.first : n + 1;
      const ip = numberToIpv4(n);
      if (!inUse.has(ip)) return ip;
    }
    return undefined;
  }

  forgetNode(name: string): void {
    this.#cursors.delete(name);
  }
}
