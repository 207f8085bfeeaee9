import { parse } from '@bytecodealliance/jco';
import { describe, expect, it } from 'vitest';
import { capMemory, MemoryLimitError } from '../../runtime/limits/memory-cap.js';

async function grow(wat: string, pages: number, capPages?: number): Promise<number> {
  const bytes = await parse(wat);
  const module = await WebAssembly.compile(capPages === undefined ? bytes : capMemory(bytes, capPages));
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return (instance.exports['grow'] as (n: number) => number)(pages);
}

const DEFINED = `(module (memory 1) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;
const DEFINED_WITH_MAX = `(module (memory 1 1000) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;
const IMPORTED = `(module (import "env" "f" (func)) (import "env" "memory" (memory 1))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

describe('capMemory', () => {
  it('makes memory.grow past the cap fail inside the guest', async () => {
    expect(await grow(DEFINED, 100)).toBe(1);
    expect(await grow(DEFINED, 100, 16)).toBe(-1);
    expect(await grow(DEFINED, 15, 16)).toBe(1);
  });

  it('lowers an existing maximum but never raises it', async () => {
    expect(await grow(DEFINED_WITH_MAX, 100, 16)).toBe(-1);
    const bytes = capMemory(await parse(`(module (memory 1 4) (export "m" (memory 0)))`), 16);
    const instance = new WebAssembly.Instance(await WebAssembly.compile(bytes));
    expect(() => (instance.exports['m'] as WebAssembly.Memory).grow(8)).toThrow();
  });

  it('caps an imported memory', async () => {
    const bytes = capMemory(await parse(IMPORTED), 16);
    const module = await WebAssembly.compile(bytes);
    // the import now demands a maximum the host memory must match
    expect(() => new WebAssembly.Instance(module, { env: { f: () => {}, memory: new WebAssembly.Memory({ initial: 1 }) } })).toThrow();
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
    const instance = new WebAssembly.Instance(module, { env: { f: () => {}, memory } });
    expect((instance.exports['grow'] as (n: number) => number)(100)).toBe(-1);
  });

  it('refuses a cap below what the module needs to start', async () => {
    const bytes = await parse(`(module (memory 4))`);
    expect(() => capMemory(bytes, 2)).toThrow(MemoryLimitError);
  });
});
