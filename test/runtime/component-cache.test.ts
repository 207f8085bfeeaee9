// The component cache the agents of one process share (decision 052): one transpile per digest for
// all of them, and no component for an agent that cannot present the bytes (its own pull).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ComponentCache } from '../../runtime/component-cache.js';
import { ComponentLoader } from '../../runtime/component-loader.js';
import { digestOf } from '../../runtime/component-digest.js';
import { DigestMismatchError } from '../../runtime/pod-runtime.js';
import type { TranspiledComponent } from '../../runtime/transpiler/component-transpiler.js';
import { TranspilerWorker } from '../../runtime/transpiler/transpiler-worker.js';
import { exampleBytes } from '../contracts/runtime.contract.js';

describe('ComponentCache shared by the loaders of several agents', () => {
  let dir: string;
  let worker: TranspilerWorker;
  let transpile: ReturnType<typeof vi.fn<(bytes: Uint8Array) => Promise<TranspiledComponent>>>;
  let cache: ComponentCache;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-shared-cache-'));
    worker = new TranspilerWorker();
    transpile = vi.fn((bytes: Uint8Array) => worker.transpile(bytes));
    cache = new ComponentCache({ transpile });
  });
  afterEach(async () => {
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  });
  const agentLoader = (i: number) => new ComponentLoader({ cacheDir: join(dir, `agent-${i}`), cache });

  it('transpiles a digest once for three agents loading it at the same time', async () => {
    const bytes = exampleBytes('hello');
    const digest = digestOf(bytes);
    const fetches = [vi.fn(async () => bytes), vi.fn(async () => bytes), vi.fn(async () => bytes)];
    const loaded = await Promise.all(fetches.map((fetch, i) => agentLoader(i).load(digest, fetch)));
    expect(transpile).toHaveBeenCalledTimes(1);
    // every agent fetched with its own credential: the pull is still each node's own
    for (const fetch of fetches) expect(fetch).toHaveBeenCalledTimes(1);
    expect(loaded[1]!.transpiled).toBe(loaded[0]!.transpiled);
    // and compiled modules of one variant are shared too
    const variant = { accountMemory: true, memoryMaxPages: 32 };
    const [a, b] = [agentLoader(0), agentLoader(1)];
    expect(await b.modules(loaded[1]!, variant)).toBe(await a.modules(loaded[0]!, variant));
  });

  it('gives a component to an agent only for the bytes of that digest, whatever another agent loaded', async () => {
    const bytes = exampleBytes('hello');
    const digest = digestOf(bytes);
    await agentLoader(0).load(digest, async () => bytes);
    // an agent whose pull is refused gets nothing, though the transpile is in the shared cache
    const refused = new Error('403: node-2 may not pull this image');
    await expect(agentLoader(1).load(digest, async () => { throw refused; })).rejects.toBe(refused);
    // nor for other bytes (a node naming a digest it was not given)
    await expect(agentLoader(2).load(digest, async () => exampleBytes('trap'))).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(cache.transpile(digest, new Uint8Array([0, 97, 115, 109]))).rejects.toBeInstanceOf(DigestMismatchError);
    expect(transpile).toHaveBeenCalledTimes(1);
  });

  it('shares a component one agent read back from its own disk with the others', async () => {
    const bytes = exampleBytes('trap');
    const digest = digestOf(bytes);
    // agent 0 transpiled it in an earlier life (its own disk cache)
    const earlier = new ComponentLoader({ cacheDir: join(dir, 'agent-0') });
    await earlier.load(digest, async () => bytes);
    await earlier.close();
    transpile.mockClear();
    await agentLoader(0).load(digest, async () => { throw new Error('not fetched again'); });
    await agentLoader(1).load(digest, async () => bytes);
    expect(transpile).not.toHaveBeenCalled();
  });

  it('lets a failed transpile be retried (single-flight does not keep the failure)', async () => {
    const bytes = exampleBytes('hello');
    const digest = digestOf(bytes);
    transpile.mockRejectedValueOnce(new Error('transpiler crashed'));
    await expect(agentLoader(0).load(digest, async () => bytes)).rejects.toThrow('transpiler crashed');
    await expect(agentLoader(1).load(digest, async () => bytes)).resolves.toMatchObject({ digest });
  });
});
