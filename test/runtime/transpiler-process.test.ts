import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidComponentError } from '../../runtime/pod-runtime.js';
import { TranspilerWorker } from '../../runtime/transpiler/transpiler-worker.js';

const hello = async () => new Uint8Array(await readFile(new URL('../../wasm-examples/hello/hello.wasm', import.meta.url)));

describe('the transpiler process', () => {
  let transpiler: TranspilerWorker | undefined;
  afterEach(async () => {
    await transpiler?.close();
  });

  it('is not started until a transpile is asked for', () => {
    transpiler = new TranspilerWorker(50);
    expect(transpiler.isRunning).toBe(false);
  });

  it('ends once idle, so jco does not stay in memory, and starts again for the next transpile', async () => {
    transpiler = new TranspilerWorker(50);
    const first = await transpiler.transpile(await hello());
    expect(first.exports.some((e) => e.startsWith('wasi:cli/run'))).toBe(true);
    await vi.waitFor(() => expect(transpiler!.isRunning).toBe(false), { timeout: 10_000, interval: 20 });
    const second = await transpiler.transpile(await hello());
    expect(second.source).toBe(first.source);
  });

  it('answers invalid bytes with InvalidComponentError and keeps working after it', async () => {
    transpiler = new TranspilerWorker(50);
    await expect(transpiler.transpile(Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 9, 9))).rejects.toBeInstanceOf(InvalidComponentError);
    expect((await transpiler.transpile(await hello())).exports.length).toBeGreaterThan(0);
  });
});
