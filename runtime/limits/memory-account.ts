// Worker side of memory limits: counts every linear memory of a guest run against the container's
// limit (all its memories together, not each one) and the node's pool (memory-pool.ts), and grows
// memories for the guest (instrument-module.ts routes memory.grow here). Past either bound the
// grow answers -1, as memory.grow does at a maximum, so malloc returns NULL and the guest can react;
// the run remembers which bound it hit, to end OOMKilled if the guest then fails.
import { WASM_PAGE_BYTES } from '../wasm-binary.js';
import { FUEL_HOOK_TABLE_EXPORT, GROW_HOOK_SLOT, MEMORY_EXPORT } from './instrument-module.js';
import { MemoryPool } from './memory-pool.js';

/** Which bound a refused grow or instantiation met: the container's limit or the node's pool. */
export type MemoryExhaustion = 'limit' | 'node';

/** An instance's memory does not fit in what is left (thrown before it is created). */
export class MemoryReservationError extends Error {
  override readonly name = 'MemoryReservationError';
  constructor(readonly exhaustion: MemoryExhaustion, message: string) {
    super(message);
  }
}

export interface MemoryAccountOptions {
  /** Pages all memories of the run may hold together (the container's limit); none: unbounded. */
  limitPages?: number;
  /** The node's pool; none: only the limit counts. */
  pool?: SharedArrayBuffer;
  /**
   * Int32 cell of the run's control block counting the pages its memories hold: the runtime reads
   * it for metrics, and gives them back to the pool when the run ends.
   */
  poolPages: { cells: Int32Array; index: number };
  /** Initial pages of the memory each core module defines (0: none, or imported). */
  minPages: (module: WebAssembly.Module) => number;
}

// (module (import "host" "grow" (func (param i32) (result i32))) (export "grow" (func 0))): a JS
// function as a wasm function, so it can be stored in a table
const GROW_MODULE_BYTES = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
  0x02, 0x0d, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00,
  0x07, 0x08, 0x01, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00,
);
let growModule: WebAssembly.Module | undefined;

export class MemoryAccount {
  /** Pages held by the run's memories (each memory counted once, imported or not). */
  #usedPages = 0;
  /** Memories seen, with the pages counted for each. */
  readonly #memories = new Map<WebAssembly.Memory, number>();
  /** Pages reserved for an instance being created, until it is attached. */
  #pendingPages = 0;
  readonly #pool: MemoryPool | undefined;
  #exhausted: MemoryExhaustion | undefined;

  constructor(private readonly options: MemoryAccountOptions) {
    this.#pool = options.pool ? new MemoryPool(options.pool) : undefined;
  }

  /** The bound a grow or an instantiation met, if any did. */
  get exhausted(): MemoryExhaustion | undefined {
    return this.#exhausted;
  }

  /** A reused handler instance starts another request: a refusal an earlier request met is not this one's. */
  forgetExhaustion(): void {
    this.#exhausted = undefined;
  }

  get usedBytes(): number {
    return this.#usedPages * WASM_PAGE_BYTES;
  }

  /** Reserves the memory `module` defines before it is instantiated; throws MemoryReservationError. */
  beforeInstantiate(module: WebAssembly.Module): void {
    const pages = this.options.minPages(module);
    const refused = this.#take(pages);
    if (refused) {
      this.#exhausted = refused;
      const bytes = (this.#usedPages + pages) * WASM_PAGE_BYTES;
      throw new MemoryReservationError(refused, refused === 'limit'
        ? `the component's memories need ${bytes} bytes to start, over the memory limit`
        : `the node's memory for containers is used up (${bytes} bytes needed to start)`);
    }
    this.#pendingPages = pages;
  }

  /** Counts the new instance's memory (as it is now) and routes its memory.grow here. */
  attach(instance: WebAssembly.Instance): void {
    const reserved = this.#pendingPages;
    this.#pendingPages = 0;
    const memory = instance.exports[MEMORY_EXPORT];
    if (!(memory instanceof WebAssembly.Memory)) return;
    if (!this.#memories.has(memory)) {
      const pages = memory.buffer.byteLength / WASM_PAGE_BYTES;
      // a start function may have grown it (under the static cap) before we could see it
      if (pages > reserved) this.#take(pages - reserved, true);
      this.#memories.set(memory, pages);
    } else if (reserved > 0) {
      this.#give(reserved); // not new after all
    }
    const hooks = instance.exports[FUEL_HOOK_TABLE_EXPORT];
    if (!(hooks instanceof WebAssembly.Table)) return;
    growModule ??= new WebAssembly.Module(GROW_MODULE_BYTES);
    const grow = (pages: number) => this.#grow(memory, pages >>> 0);
    hooks.set(GROW_HOOK_SLOT, new WebAssembly.Instance(growModule, { host: { grow } }).exports['grow']);
  }

  #grow(memory: WebAssembly.Memory, pages: number): number {
    const before = memory.buffer.byteLength / WASM_PAGE_BYTES;
    if (pages === 0) return before;
    const refused = this.#take(pages);
    if (refused) {
      this.#exhausted = refused;
      return -1;
    }
    try {
      memory.grow(pages);
    } catch {
      // the memory's own maximum (the static cap), or the engine could not allocate
      this.#give(pages);
      this.#exhausted = 'limit';
      return -1;
    }
    this.#memories.set(memory, before + pages);
    return before;
  }

  /** Takes pages from the limit and the pool; the bound that refused them, or undefined. `force`: count them anyway. */
  #take(pages: number, force = false): MemoryExhaustion | undefined {
    if (pages <= 0) return undefined;
    const limit = this.options.limitPages;
    if (!force && limit !== undefined && this.#usedPages + pages > limit) return 'limit';
    const { cells, index } = this.options.poolPages;
    Atomics.add(cells, index, pages); // first: the runtime may release after a kill at any point
    if (this.#pool && !this.#pool.tryReserve(pages)) {
      if (!force) {
        Atomics.sub(cells, index, pages);
        return 'node';
      }
      this.#pool.forceReserve(pages);
    }
    this.#usedPages += pages;
    return undefined;
  }

  #give(pages: number): void {
    this.#usedPages -= pages;
    const { cells, index } = this.options.poolPages;
    Atomics.sub(cells, index, pages);
    this.#pool?.release(pages);
  }
}
