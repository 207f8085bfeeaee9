import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ComponentLoader } from '../../runtime/component-loader.js';
import { digestOf } from '../../runtime/component-digest.js';
import { DigestMismatchError } from '../../runtime/pod-runtime.js';
import { exampleBytes } from '../contracts/runtime.contract.js';

// A preview 1 command written in WAT: writes "hi\n" to stdout, then proc_exit(7).
const PREVIEW1_WAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (i32.const 7))))`;

describe('ComponentLoader', () => {
  let cacheDir: string;
  let loaders: ComponentLoader[];
  const newLoader = (options: ConstructorParameters<typeof ComponentLoader>[0] = {}) => {
    const loader = new ComponentLoader(options);
    loaders.push(loader);
    return loader;
  };
  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'skiff-loader-'));
    loaders = [];
  });
  afterEach(async () => {
    await Promise.all(loaders.map((l) => l.close()));
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('does not fetch or transpile again after a restart when given a cache dir', async () => {
    const bytes = exampleBytes('hello');
    const digest = digestOf(bytes);
    const first = await newLoader({ cacheDir }).load(digest, async () => bytes);
    const fetchBytes = vi.fn(async () => bytes);
    const second = await newLoader({ cacheDir }).load(digest, fetchBytes);
    expect(fetchBytes).not.toHaveBeenCalled();
    expect(second.transpiled.source).toBe(first.transpiled.source);
    expect(Object.keys(second.transpiled.coreModules)).toEqual(Object.keys(first.transpiled.coreModules));
  });

  it('fetches once for concurrent loads of the same digest', async () => {
    const bytes = exampleBytes('trap');
    const fetchBytes = vi.fn(async () => bytes);
    const loader = newLoader();
    const [a, b] = await Promise.all([loader.load(digestOf(bytes), fetchBytes), loader.load(digestOf(bytes), fetchBytes)]);
    expect(a).toBe(b);
    expect(fetchBytes).toHaveBeenCalledTimes(1);
  });

  it('shares compiled modules between starts of the same variant and compiles each variant apart', async () => {
    const bytes = exampleBytes('hello');
    const loader = newLoader();
    const component = await loader.load(digestOf(bytes), async () => bytes);
    const plain = await loader.modules(component, {});
    expect(await loader.modules(component, {})).toBe(plain);
    const capped = await loader.modules(component, { memoryMaxPages: 64 });
    expect(capped).not.toBe(plain);
    expect(await loader.modules(component, { memoryMaxPages: 64 })).toBe(capped);
  });

  it('accepts a preview 1 core module as it is (no transpiling), a command when it exports _start', async () => {
    const core = await parse(PREVIEW1_WAT);
    const component = await newLoader({ cacheDir }).load(digestOf(core), async () => core);
    expect(component.exportsCommand).toBe(true);
    expect(component.transpiled).toMatchObject({ preview1: true, source: '', exports: ['_start'] });
    // read back from the disk cache by another loader, still a preview 1 module
    const again = await newLoader({ cacheDir }).load(digestOf(core), async () => { throw new Error('not fetched again'); });
    expect(again.transpiled.preview1).toBe(true);
  });

  it('refuses a preview 1 module importing anything but wasi_snapshot_preview1 functions', async () => {
    const core = await parse('(module (import "env" "f" (func)) (import "wasi_unstable" "fd_write" (func)) (func (export "_start")))');
    await expect(newLoader().load(digestOf(core), async () => core)).rejects.toThrow(/unknown imports: env::f, wasi_unstable::fd_write/);
  });

  it('rejects a malformed digest before fetching', async () => {
    const fetchBytes = vi.fn(async () => new Uint8Array());
    await expect(newLoader().load('sha256:xyz', fetchBytes)).rejects.toBeInstanceOf(DigestMismatchError);
    expect(fetchBytes).not.toHaveBeenCalled();
  });

  it('does not cache a component whose bytes failed the digest check', async () => {
    const bytes = exampleBytes('trap');
    const loader = newLoader({ cacheDir });
    const digest = digestOf(bytes);
    await expect(loader.load(digest, async () => exampleBytes('spin'))).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(loader.load(digest, async () => bytes)).resolves.toMatchObject({ digest });
  });
});
