// Pod CIDRs for nodes, as kube-controller-manager's range allocator gives them: the cluster CIDR
// (--cluster-cidr) cut into blocks of --node-cidr-mask-size, one bit per block in a bitmap. The
// next allocation starts after the last one given and wraps around (a block just released is not
// handed out again at once, while peers may still route to its old node). The bitmap is rebuilt
// from the Nodes' spec.podCIDR after a restart (`occupy`) and a block is freed when its Node is
// deleted (`release`). Block 0 (10.42.0.0/24 by default) is kept back, so the first node keeps the
// 10.42.1.0/24 it always had.
import {
  DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE, MAX_NODE_CIDR_MASK_SIZE, numberToIpv4, parseIpv4Block,
} from '../../api/pod-addresses.js';

/** kube-controller-manager refuses a node mask more than 16 bits longer than the cluster's (cidrset). */
export const MAX_CIDR_MASK_DIFFERENCE = 16;

export interface PodCidrSettings {
  clusterCidr?: string;
  nodeCidrMaskSize?: number;
}

/** Why a cluster CIDR and node mask cannot be used, or undefined when they can. */
export function podCidrSettingsProblem(settings: PodCidrSettings): string | undefined {
  const text = settings.clusterCidr ?? DEFAULT_CLUSTER_CIDR;
  const mask = settings.nodeCidrMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE;
  const block = parseIpv4Block(text);
  if (!block) return `--cluster-cidr ${JSON.stringify(String(text).slice(0, 40))} is no IPv4 CIDR (e.g. 10.42.0.0/16)`;
  if (block.prefix < 8) return `--cluster-cidr ${text}: the prefix must be at least /8`;
  if (!Number.isInteger(mask) || mask < block.prefix || mask > MAX_NODE_CIDR_MASK_SIZE) {
    return `--node-cidr-mask-size ${mask} must be between the cluster CIDR's prefix (${block.prefix}) and ${MAX_NODE_CIDR_MASK_SIZE}`;
  }
  if (mask - block.prefix > MAX_CIDR_MASK_DIFFERENCE) {
    return `--node-cidr-mask-size ${mask} is more than ${MAX_CIDR_MASK_DIFFERENCE} bits longer than the cluster CIDR's /${block.prefix} (at most ${2 ** MAX_CIDR_MASK_DIFFERENCE} node blocks)`;
  }
  return undefined;
}

export class PodCidrAllocator {
  readonly clusterCidr: string;
  readonly nodeCidrMaskSize: number;
  /** How many node blocks the cluster CIDR holds (block 0 included, never given). */
  readonly blocks: number;
  readonly #base: number;
  readonly #blockSize: number;
  readonly #used: Uint8Array;
  #free: number;
  /** Where the next search starts: after the last block given. */
  #next = 1;

  constructor(settings: PodCidrSettings = {}) {
    const problem = podCidrSettingsProblem(settings);
    if (problem) throw new Error(problem);
    const block = parseIpv4Block(settings.clusterCidr ?? DEFAULT_CLUSTER_CIDR)!;
    this.nodeCidrMaskSize = settings.nodeCidrMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE;
    this.clusterCidr = `${numberToIpv4(block.base)}/${block.prefix}`;
    this.blocks = 2 ** (this.nodeCidrMaskSize - block.prefix);
    this.#base = block.base;
    this.#blockSize = 2 ** (32 - this.nodeCidrMaskSize);
    this.#used = new Uint8Array(this.blocks);
    this.#used[0] = 1;
    this.#free = this.blocks - 1;
  }

  /** Blocks still free. */
  get free(): number {
    return this.#free;
  }

  /** The block's index if `cidr` is exactly one block of this cluster CIDR, else undefined. */
  indexOf(cidr: string | undefined): number | undefined {
    const block = parseIpv4Block(cidr);
    if (!block || block.prefix !== this.nodeCidrMaskSize || !cidr!.startsWith(`${numberToIpv4(block.base)}/`)) return undefined;
    const offset = block.base - this.#base;
    if (offset < 0 || offset % this.#blockSize !== 0) return undefined;
    const index = offset / this.#blockSize;
    return index > 0 && index < this.blocks ? index : undefined;
  }

  cidrOf(index: number): string {
    return `${numberToIpv4(this.#base + index * this.#blockSize)}/${this.nodeCidrMaskSize}`;
  }

  /** Marks a block a Node already holds as used (a restart, a Node created with its podCIDR); false if it is none of ours. */
  occupy(cidr: string | undefined): boolean {
    const index = this.indexOf(cidr);
    if (index === undefined) return false;
    if (!this.#used[index]) {
      this.#used[index] = 1;
      this.#free--;
    }
    return true;
  }

  /** The next free block, or undefined when the cluster CIDR is full. */
  allocate(): string | undefined {
    if (this.#free === 0) return undefined;
    for (let step = 0; step < this.blocks; step++) {
      const index = (this.#next + step) % this.blocks;
      if (this.#used[index]) continue;
      this.#used[index] = 1;
      this.#free--;
      this.#next = (index + 1) % this.blocks;
      return this.cidrOf(index);
    }
    return undefined;
  }

  /** Frees a deleted Node's block; false if it was none of ours or not in use. */
  release(cidr: string | undefined): boolean {
    const index = this.indexOf(cidr);
    if (index === undefined || !this.#used[index]) return false;
    this.#used[index] = 0;
    this.#free++;
    return true;
  }
}
