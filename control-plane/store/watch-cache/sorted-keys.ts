// SortedKeys: a set of strings in UTF-16 code unit order, held in blocks so inserts stay cheap at 100k keys.

/**
 * A flat sorted array costs a splice of the whole array per insert; blocks of at most this many
 * keys bound that to one block (plus a binary search over the block list).
 */
const MAX_BLOCK_KEYS = 512;

export class SortedKeys {
  /** Non-empty sorted blocks, themselves in order: every key of blocks[i] < every key of blocks[i+1]. */
  #blocks: string[][] = [];
  #size = 0;

  /** Builds the set from keys in any order, without duplicates. */
  static from(keys: string[]): SortedKeys {
    const set = new SortedKeys();
    const sorted = [...keys].sort();
    for (let i = 0; i < sorted.length; i += MAX_BLOCK_KEYS / 2) set.#blocks.push(sorted.slice(i, i + MAX_BLOCK_KEYS / 2));
    set.#size = sorted.length;
    return set;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds `key`; a no-op when present. */
  insert(key: string): void {
    if (this.#blocks.length === 0) {
      this.#blocks.push([key]);
      this.#size = 1;
      return;
    }
    // The last block whose first key <= key (or the first block): the key belongs there.
    const b = Math.max(0, this.#blockAtOrBefore(key));
    const block = this.#blocks[b]!;
    const i = lowerBound(block, key);
    if (block[i] === key) return;
    block.splice(i, 0, key);
    this.#size++;
    if (block.length > MAX_BLOCK_KEYS) this.#blocks.splice(b + 1, 0, block.splice(block.length >> 1));
  }

  /** Removes `key`; a no-op when absent. */
  delete(key: string): void {
    const b = this.#blockAtOrBefore(key);
    if (b < 0) return;
    const block = this.#blocks[b]!;
    const i = lowerBound(block, key);
    if (block[i] !== key) return;
    block.splice(i, 1);
    this.#size--;
    if (block.length === 0) this.#blocks.splice(b, 1);
  }

  /** Up to `limit` keys k with start <= k < end (no upper bound when `end` is undefined), in order. */
  range(start: string, end: string | undefined, limit = Infinity): string[] {
    const keys: string[] = [];
    let b = Math.max(0, this.#blockAtOrBefore(start));
    let i = b < this.#blocks.length ? lowerBound(this.#blocks[b]!, start) : 0;
    for (; b < this.#blocks.length; b++, i = 0) {
      const block = this.#blocks[b]!;
      for (; i < block.length; i++) {
        const key = block[i]!;
        if ((end !== undefined && key >= end) || keys.length >= limit) return keys;
        keys.push(key);
      }
    }
    return keys;
  }

  /** Index of the last block whose first key <= key, or -1. */
  #blockAtOrBefore(key: string): number {
    let low = 0;
    let high = this.#blocks.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.#blocks[mid]![0]! <= key) low = mid + 1;
      else high = mid;
    }
    return low - 1;
  }
}

/** The first index whose key >= `key`. */
function lowerBound(keys: string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (keys[mid]! < key) low = mid + 1;
    else high = mid;
  }
  return low;
}
