// memory.grow routed to the host: every memory of a run counts against the container's limit
// (together, not each alone) and the node's pool; past either, grow answers -1 (never a trap).
import { parse } from '@bytecodealliance/jco';
import { describe, expect, it } from 'vitest';
import { instrumentModule, MEMORY_EXPORT } from '../../runtime/limits/instrument-module.js';
import { MemoryAccount, MemoryReservationError } from '../../runtime/limits/memory-account.js';
import { capMemory, definedMemoryMinPages } from '../../runtime/limits/memory-cap.js';
import { createMemoryPool, MemoryPool } from '../../runtime/limits/memory-pool.js';

const GROWER = (minPages: number) => `(module (memory ${minPages})
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))`;
const IMPORTER = `(module (import "env" "memory" (memory 1))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;
const GROWS_AT_START = `(module (memory 1) (func $s (drop (memory.grow (i32.const 2)))) (start $s)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

interface Grower { grow(pages: number): number; size?(): number }

const PAGE = 65_536;

async function compile(wat: string, capPages?: number): Promise<{ module: WebAssembly.Module; minPages: number }> {
  const bytes = instrumentModule(await parse(wat), { meterFuel: false, accountMemory: true });
  return { module: await WebAssembly.compile(capPages === undefined ? bytes : capMemory(bytes, capPages)), minPages: definedMemoryMinPages(bytes) };
}

/** A run's account: its control cell, and the modules' initial pages. */
function account(options: { limitPages?: number; pool?: SharedArrayBuffer }, minPages: Map<WebAssembly.Module, number>) {
  const cells = new Int32Array(1);
  const memory = new MemoryAccount({ ...options, poolPages: { cells, index: 0 }, minPages: (m) => minPages.get(m) ?? 0 });
  const instantiate = (module: WebAssembly.Module, imports?: WebAssembly.Imports) => {
    memory.beforeInstantiate(module);
    const instance = new WebAssembly.Instance(module, imports);
    memory.attach(instance);
    return instance;
  };
  return { memory, cells, instantiate };
}

describe('memory account', () => {
  it('answers -1 once the container limit is reached, and the memory stays as it was', async () => {
    const { module, minPages } = await compile(GROWER(1), 4);
    const { memory, cells, instantiate } = account({ limitPages: 4 }, new Map([[module, minPages]]));
    const guest = instantiate(module).exports as unknown as Grower;
    expect(guest.grow(1)).toBe(1);
    expect(guest.grow(2)).toBe(2);
    expect(memory.exhausted).toBeUndefined();
    expect(guest.grow(1)).toBe(-1);
    expect(guest.size!()).toBe(4);
    expect(memory.exhausted).toBe('limit');
    expect(cells[0]).toBe(4); // what the runtime reads for metrics and gives back to the pool
    expect(guest.grow(0)).toBe(4);
    expect(guest.grow(-1)).toBe(-1); // 2^32 - 1 pages: refused, not a trap
  });

  it('counts all the memories of a run together, refusing an instance whose memory does not fit before it exists', async () => {
    const first = await compile(GROWER(2));
    const second = await compile(GROWER(2));
    const { memory, instantiate } = account({ limitPages: 3 }, new Map([[first.module, 2], [second.module, 2]]));
    instantiate(first.module);
    expect(() => instantiate(second.module)).toThrow(MemoryReservationError);
    expect(() => instantiate(second.module)).toThrow(/need 262144 bytes to start, over the memory limit/);
    expect(memory.usedBytes).toBe(2 * PAGE);
  });

  it('counts an imported memory once, and grows it for the importer', async () => {
    const definer = await compile(GROWER(1));
    const importer = await compile(IMPORTER);
    const { memory, instantiate } = account({ limitPages: 3 }, new Map([[definer.module, 1]]));
    const defined = instantiate(definer.module);
    const shared = defined.exports[MEMORY_EXPORT] as WebAssembly.Memory;
    const guest = instantiate(importer.module, { env: { memory: shared } }).exports as unknown as Grower;
    expect(guest.grow(2)).toBe(1);
    expect(shared.buffer.byteLength).toBe(3 * PAGE);
    expect(guest.grow(1)).toBe(-1);
    expect(memory.usedBytes).toBe(3 * PAGE);
  });

  it('shares the node pool between runs: a grow past it fails in the run that asked, until pages come back', async () => {
    const { module } = await compile(GROWER(1));
    const pool = createMemoryPool(6 * PAGE);
    const a = account({ limitPages: 5, pool }, new Map([[module, 1]]));
    const b = account({ limitPages: 5, pool }, new Map([[module, 1]]));
    const guestA = a.instantiate(module).exports as unknown as Grower;
    const guestB = b.instantiate(module).exports as unknown as Grower;
    expect(guestA.grow(3)).toBe(1); // a: 4 pages, b: 1
    expect(guestB.grow(2)).toBe(-1); // 7 > 6
    expect(b.memory.exhausted).toBe('node');
    expect(guestB.grow(1)).toBe(1);
    const nodePool = new MemoryPool(pool);
    expect(nodePool.reservedPages).toBe(6);
    nodePool.release(Atomics.exchange(a.cells, 0, 0)); // run a ended: the runtime gives its pages back
    expect(guestB.grow(3)).toBe(2);
    expect(nodePool.reservedPages).toBe(5);
  });

  it('counts what a start function grew before the host could see it, and lets it run under the static cap', async () => {
    const { module, minPages } = await compile(GROWS_AT_START, 8);
    const { memory, instantiate } = account({ limitPages: 8 }, new Map([[module, minPages]]));
    const guest = instantiate(module).exports as unknown as Grower;
    expect(memory.usedBytes).toBe(3 * PAGE);
    expect(guest.grow(5)).toBe(3);
    expect(guest.grow(1)).toBe(-1);
  });

  it('leaves an instrumented module usable without an account (the grow falls back to the plain instruction)', async () => {
    const { module } = await compile(GROWER(1), 2);
    const guest = new WebAssembly.Instance(module).exports as unknown as Grower;
    expect(guest.grow(1)).toBe(1);
    expect(guest.grow(1)).toBe(-1); // the static cap still holds
  });
});
