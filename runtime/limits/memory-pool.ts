// The node's pool of linear-memory pages: every container's memories come out of it, so all the
// guests together never hold more than the node allows (the agent's allocatable memory), however
// many run and however much each one's own limit says. Shared memory, updated with atomics: guest
// workers reserve (at instantiation and on every memory.grow), the runtime's thread releases a
// run's pages when the run ends, however it ends (the run's count is in its control block).
import { WASM_PAGE_BYTES } from '../wasm-binary.js';

const RESERVED_INDEX = 0;
const CAPACITY_INDEX = 1;

export function createMemoryPool(capacityBytes: number): SharedArrayBuffer {
  const pool = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  // pages fit an int32 for any real machine: 2^31 pages is 128 TiB
  Atomics.store(new Int32Array(pool), CAPACITY_INDEX, Math.min(0x7fffffff, Math.floor(capacityBytes / WASM_PAGE_BYTES)));
  return pool;
}

export class MemoryPool {
  readonly #cells: Int32Array;
  constructor(pool: SharedArrayBuffer) {
    this.#cells = new Int32Array(pool);
  }

  get capacityPages(): number {
    return Atomics.load(this.#cells, CAPACITY_INDEX);
  }

  get reservedPages(): number {
    return Atomics.load(this.#cells, RESERVED_INDEX);
  }

  /** Takes `pages` if they fit under the capacity; false (nothing taken) otherwise. */
  tryReserve(pages: number): boolean {
    if (pages <= 0) return true;
    const capacity = this.capacityPages;
    for (;;) {
      const reserved = Atomics.load(this.#cells, RESERVED_INDEX);
      if (reserved + pages > capacity) return false;
      if (Atomics.compareExchange(this.#cells, RESERVED_INDEX, reserved, reserved + pages) === reserved) return true;
    }
  }

  /** Counts pages already taken (a memory that exists before it could be asked for), even past the capacity. */
  forceReserve(pages: number): void {
    if (pages > 0) Atomics.add(this.#cells, RESERVED_INDEX, pages);
  }

  /** Gives pages back (never below zero). */
  release(pages: number): void {
    if (pages <= 0) return;
    for (;;) {
      const reserved = Atomics.load(this.#cells, RESERVED_INDEX);
      const next = Math.max(0, reserved - pages);
      if (Atomics.compareExchange(this.#cells, RESERVED_INDEX, reserved, next) === reserved) return;
    }
  }
}
